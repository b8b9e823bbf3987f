package main

import (
	"context"
	"fmt"
	"os/user"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
)

// record appends an administrative event (a token issued or revoked) to the
// audit log named by --config. Without a configuration, or with auditing
// disabled there, it says on stderr that nothing was recorded.
func (e *env) record(ctx context.Context, db *pgxpool.Pool, warn func(string), ev audit.Event) error {
	if e.configPath == "" {
		warn("note: not recorded in the audit log (give --config to record credential changes)")
		return nil
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if !cfg.AuditEnabled() {
		warn("note: the audit log is disabled in the configuration; not recorded")
		return nil
	}
	opts, err := cfg.AuditOptions(nil)
	if err != nil {
		return err
	}
	opts.CheckpointEvery, opts.PurgeEvery = -1, -1
	l, err := audit.Open(ctx, db, opts)
	if err != nil {
		return err
	}
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	ev.Actor = assist.Actor{TokenID: "cli:" + name, Name: "assist CLI (" + name + ")", Role: assist.RoleAdmin}
	rc, err := l.Append(ctx, ev)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	warn(fmt.Sprintf("recorded in the audit log as seq %d", rc.Seq))
	return nil
}
