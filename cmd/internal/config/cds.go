package config

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// CDS configures how CDS Hooks clients (EHRs) prove who they are. Each
// call to /cds-services carries a JWT signed with the EHR's private key
// (CDS Hooks 2.0); the gateway verifies it against the public keys an
// administrator registered here. The gateway's own bearer tokens are for
// its own API and are refused on /cds-services unless AllowBearerTokens
// is set (for a migration period only).
type CDS struct {
	// BaseURL is the gateway's external URL as EHRs call it (e.g.
	// https://gateway.example.fi); a token's aud must be BaseURL plus the
	// path called (/cds-services/medication-risk).
	BaseURL string      `yaml:"base_url" env:"BASE_URL"`
	Clients []CDSClient `yaml:"clients"`
	// MaxTokenLifetime bounds exp − iat and exp − now (default 5m).
	MaxTokenLifetime time.Duration `yaml:"max_token_lifetime" env:"MAX_TOKEN_LIFETIME"`
	// ClockSkew is the allowed clock difference (default 30s).
	ClockSkew time.Duration `yaml:"clock_skew" env:"CLOCK_SKEW"`
	// AllowBearerTokens also accepts the gateway's bearer tokens on
	// /cds-services (off by default).
	AllowBearerTokens bool `yaml:"allow_bearer_tokens" env:"ALLOW_BEARER_TOKENS"`
}

// CDSClient is one registered EHR: its issuer ("iss") and public keys
// (a JWK Set, from a file or inline).
type CDSClient struct {
	Name         string `yaml:"name"`
	Issuer       string `yaml:"issuer"`
	Organisation string `yaml:"organisation"`
	JWKSFile     string `yaml:"jwks_file"`
	JWKS         string `yaml:"jwks"`
}

// defaultCDS is the CDS part of Default().
func defaultCDS() CDS { return CDS{MaxTokenLifetime: 5 * time.Minute, ClockSkew: 30 * time.Second} }

// validate checks the CDS settings and reads each client's JWKS file
// into JWKS.
func (c *CDS) validate() error {
	bad := func(key, msg string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(msg, args...))
	}
	if c.MaxTokenLifetime <= 0 || c.MaxTokenLifetime > time.Hour {
		return bad("cds.max_token_lifetime", "must be a positive duration of at most 1h (5m recommended)")
	}
	if c.ClockSkew < 0 || c.ClockSkew > 5*time.Minute {
		return bad("cds.clock_skew", "must be between 0s and 5m")
	}
	if len(c.Clients) > 0 || c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return bad("cds.base_url", "must be the gateway's absolute http(s) URL as EHRs call it (needed to check each token's audience)")
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	names, issuers := map[string]bool{}, map[string]bool{}
	for i := range c.Clients {
		cl := &c.Clients[i]
		key := fmt.Sprintf("cds.clients[%d]", i)
		switch {
		case cl.Name == "":
			return bad(key+".name", "is required")
		case names[cl.Name]:
			return bad(key+".name", "duplicate client %q", cl.Name)
		case cl.Issuer == "":
			return bad(key+".issuer", "is required (the iss the EHR sends)")
		case issuers[cl.Issuer]:
			return bad(key+".issuer", "issuer registered twice")
		case (cl.JWKSFile == "") == (cl.JWKS == ""):
			return bad(key, "set exactly one of jwks_file and jwks")
		}
		names[cl.Name], issuers[cl.Issuer] = true, true
		if cl.JWKSFile != "" {
			b, err := os.ReadFile(cl.JWKSFile)
			if err != nil {
				return bad(key+".jwks_file", "%v", err)
			}
			cl.JWKS = string(b)
		}
	}
	return nil
}
