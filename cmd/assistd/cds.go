package main

import (
	"fmt"
	"log/slog"

	"github.com/soteai/gateway/assist/auth/cdsjwt"
	"github.com/soteai/gateway/cmd/assistd/internal/httpapi"
	"github.com/soteai/gateway/cmd/internal/config"
)

// newCDSAuth builds the CDS Hooks client authentication from the
// registered clients. Without clients every signed call is refused (and
// bearer tokens only pass with cds.allow_bearer_tokens), which the log
// says at start.
func newCDSAuth(cfg *config.Config, log *slog.Logger) (*httpapi.CDSAuth, error) {
	clients := make([]cdsjwt.Client, len(cfg.CDS.Clients))
	for i, c := range cfg.CDS.Clients {
		org := c.Organisation
		if org == "" {
			org = cfg.Auth.Organisation
		}
		clients[i] = cdsjwt.Client{Issuer: c.Issuer, Name: c.Name, Organisation: org, JWKS: []byte(c.JWKS)}
	}
	v, err := cdsjwt.New(clients, cdsjwt.Options{MaxLifetime: cfg.CDS.MaxTokenLifetime, Leeway: cfg.CDS.ClockSkew})
	if err != nil {
		return nil, fmt.Errorf("config: cds.clients: %w", err)
	}
	switch {
	case len(clients) == 0 && !cfg.CDS.AllowBearerTokens:
		log.Warn("no CDS Hooks clients are registered (cds.clients): calls to /cds-services will be refused")
	case cfg.CDS.AllowBearerTokens:
		log.Warn("cds.allow_bearer_tokens is on: /cds-services also accepts gateway bearer tokens; register the EHRs' keys and turn it off")
	}
	return &httpapi.CDSAuth{Verifier: v, BaseURL: cfg.CDS.BaseURL, AllowBearerTokens: cfg.CDS.AllowBearerTokens}, nil
}
