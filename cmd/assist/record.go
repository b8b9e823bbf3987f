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
	r, err := e.recorder(ctx, db, warn, "credential changes")
	if err != nil {
		return err
	}
	seq, err := r.record(ctx, ev)
	if cerr := r.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if seq > 0 {
		warn(fmt.Sprintf("recorded in the audit log as seq %d", seq))
	}
	return nil
}

// recorder opens the audit log named by --config in db, for a command that
// records its changes (what names them in the note). Without a
// configuration, or with auditing disabled there, it says on stderr that
// nothing will be recorded and returns a recorder that records nothing.
// Opening it before changing anything means a command whose changes could
// never be recorded (a bad configuration or key) changes nothing.
func (e *env) recorder(ctx context.Context, db *pgxpool.Pool, warn func(string), what string) (*recorder, error) {
	if e.configPath == "" {
		warn("note: not recorded in the audit log (give --config to record " + what + ")")
		return &recorder{}, nil
	}
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	if !cfg.AuditEnabled() {
		warn("note: the audit log is disabled in the configuration; not recorded")
		return &recorder{}, nil
	}
	opts, err := cfg.AuditOptions(nil)
	if err != nil {
		return nil, err
	}
	opts.CheckpointEvery, opts.PurgeEvery = -1, -1
	l, err := audit.Open(ctx, db, opts)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return &recorder{log: l, actor: assist.Actor{TokenID: "cli:" + name, Name: "assist CLI (" + name + ")", Role: assist.RoleAdmin}}, nil
}

// recorder appends one command's events to the audit log as the CLI's
// user. Its zero value records nothing.
type recorder struct {
	log   *audit.Log // nil when nothing is recorded
	actor assist.Actor
}

// record appends ev with the CLI's actor and returns its sequence number,
// once it is durable (0 when nothing is recorded).
func (r *recorder) record(ctx context.Context, ev audit.Event) (int64, error) {
	if r.log == nil {
		return 0, nil
	}
	ev.Actor = r.actor
	rc, err := r.log.Append(ctx, ev)
	if err != nil {
		return 0, fmt.Errorf("audit log: %w", err)
	}
	return rc.Seq, nil
}

// close stops the log, signing a checkpoint over what was recorded.
func (r *recorder) close() error {
	if r.log == nil {
		return nil
	}
	if err := r.log.Close(); err != nil {
		return fmt.Errorf("audit log: the records are written, but no checkpoint could be signed over them: %w", err)
	}
	return nil
}
