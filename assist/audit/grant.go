package audit

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
)

// GrantAppRole gives an existing database role exactly what the gateway
// needs: SELECT and INSERT on the audit tables and EXECUTE on the content
// purge function — no UPDATE, DELETE or TRUNCATE. Run it as the owner of
// the audit tables (the role that ran the migrations), e.g. through
// `assist audit grant --role NAME`. The gateway must not connect as the
// owner: an owner can drop the append-only triggers.
//
//	CREATE ROLE assist_app LOGIN PASSWORD '…';  -- once, as an administrator
//	assist audit grant --role assist_app
func GrantAppRole(ctx context.Context, db *pgxpool.Pool, role string) error {
	const op = "audit.GrantAppRole"
	if role == "" {
		return assist.E(assist.KindInvalid, op, "a role name is required")
	}
	r := pgx.Identifier{role}.Sanitize()
	tx, err := db.Begin(ctx)
	if err != nil {
		return translate(op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, stmt := range []string{
		`REVOKE ALL ON audit_records, audit_nodes, audit_checkpoints, audit_content FROM ` + r,
		`GRANT SELECT, INSERT ON audit_records, audit_nodes, audit_checkpoints, audit_content TO ` + r,
		`GRANT EXECUTE ON FUNCTION audit_purge_content() TO ` + r,
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return translate(op, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return translate(op, err)
	}
	return nil
}
