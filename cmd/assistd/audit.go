package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/config"
	"github.com/soteai/gateway/assist/relay"
)

// newAuditor opens the audit log. With auditing disabled it returns nil,
// and the relay serves unrecorded (allowed only by explicit configuration).
func newAuditor(ctx context.Context, cfg *config.Config, db *pgxpool.Pool, log *slog.Logger) (relay.Auditor, func(), error) {
	if !cfg.AuditEnabled() {
		log.Warn("the audit log is disabled by configuration: AI output is served unrecorded")
		return nil, func() {}, nil
	}
	return nil, nil, errors.New("audit log wiring pending")
}
