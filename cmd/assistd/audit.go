package main

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/cmd/internal/config"
)

// newAuditor opens the audit log. With auditing disabled it returns nil,
// and the relay serves unrecorded (allowed only by explicit configuration).
func newAuditor(ctx context.Context, cfg *config.Config, db *pgxpool.Pool, log *slog.Logger) (*audit.Log, error) {
	if !cfg.AuditEnabled() {
		log.Warn("the audit log is disabled by configuration: AI output is served unrecorded")
		return nil, nil
	}
	opts, err := cfg.AuditOptions(log)
	if err != nil {
		return nil, err
	}
	return audit.Open(ctx, db, opts)
}
