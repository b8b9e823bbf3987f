package main

import (
	"context"
	"fmt"
	"os/user"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/auth"
)

// credentialRecorder opens the audit log for a credential change, which
// is always recorded: without --config, or with auditing disabled there,
// it refuses before anything is changed.
func (e *env) credentialRecorder(ctx context.Context, db *pgxpool.Pool) (*recorder, error) {
	if e.configPath == "" {
		return nil, assist.Errorf(assist.KindInvalid,
			"credential changes are always recorded in the audit log: give the gateway's configuration with --config")
	}
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	if !cfg.AuditEnabled() {
		return nil, assist.Errorf(assist.KindInvalid,
			"credential changes are always recorded in the audit log, which the configuration %s disables", e.configPath)
	}
	return e.recorder(ctx, db, func(string) {}, "credential changes")
}

// issue creates a credential with create and records it. If the record
// fails, the credential is deleted again; if that fails too, the error
// says so and names the credential, so no live key is left unrecorded
// without the operator knowing.
func (e *env) issue(ctx context.Context, db *pgxpool.Pool, store *auth.Store, warn func(string), create func() (auth.Credential, error)) (auth.Credential, error) {
	rec, err := e.credentialRecorder(ctx, db)
	if err != nil {
		return auth.Credential{}, err
	}
	c, err := create()
	if err != nil {
		_ = rec.close()
		return auth.Credential{}, err
	}
	seq, err := rec.record(ctx, credentialEvent(audit.KindTokenCreate, c))
	if cerr := rec.close(); err == nil && cerr != nil {
		warn(cerr.Error()) // the record is durable; only the checkpoint is missing
	}
	if err != nil {
		if derr := store.Delete(context.WithoutCancel(ctx), c.ID); derr != nil {
			return auth.Credential{}, fmt.Errorf("credential %s was created but could not be recorded (%w), and rolling it back failed too (%v): "+
				"it may be live; revoke it now with `assist tokens revoke %s`", c.ID, err, derr, c.ID)
		}
		return auth.Credential{}, fmt.Errorf("the credential could not be recorded in the audit log, so it was not created: %w", err)
	}
	warn(fmt.Sprintf("recorded in the audit log as seq %d", seq))
	return c, nil
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
	open := e.openAudit
	if open == nil {
		open = func(ctx context.Context, db *pgxpool.Pool, opts audit.Options) (auditAppender, error) {
			return audit.Open(ctx, db, opts)
		}
	}
	l, err := open(ctx, db, opts)
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
	log   auditAppender // nil when nothing is recorded
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

// auditAppender is the part of *audit.Log the CLI records with.
type auditAppender interface {
	Append(ctx context.Context, ev audit.Event) (audit.Receipt, error)
	Close() error
}
