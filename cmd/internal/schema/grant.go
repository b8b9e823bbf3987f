package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
)

// GrantApp gives an existing database role what the gateway needs to run,
// and no more: SELECT and INSERT on the audit tables (audit.GrantAppRole),
// SELECT on the migration version tables (the start-up check), and SELECT,
// INSERT, UPDATE, DELETE on the other tables of the schemas the caller owns.
// Run it as the owner, after every `assist migrate`: tables a migration
// adds get no privileges until it runs again. System catalogs are never
// touched, even when the caller is a superuser.
func GrantApp(ctx context.Context, db *pgxpool.Pool, role string) error {
	const op = "schema.GrantApp"
	if role == "" {
		return assist.E(assist.KindInvalid, op, "a role name is required")
	}
	r := pgx.Identifier{role}.Sanitize()
	var stmts []string
	schemas, err := names(ctx, db, `SELECT nspname FROM pg_namespace WHERE nspowner = current_user::regrole AND nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, s := range schemas {
		stmts = append(stmts, `GRANT USAGE ON SCHEMA `+pgx.Identifier{s}.Sanitize()+` TO `+r)
	}
	tables, err := pairs(ctx, db, `SELECT schemaname, tablename FROM pg_tables WHERE tableowner = current_user AND schemaname !~ '^pg_' AND schemaname <> 'information_schema' ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, t := range tables {
		name := pgx.Identifier(t).Sanitize()
		switch {
		case strings.HasPrefix(t[1], "audit_"):
			// audit.GrantAppRole below: append-only.
		case strings.HasPrefix(t[1], "goose_"):
			stmts = append(stmts, `REVOKE ALL ON `+name+` FROM `+r, `GRANT SELECT ON `+name+` TO `+r)
		default:
			stmts = append(stmts, `GRANT SELECT, INSERT, UPDATE, DELETE ON `+name+` TO `+r)
		}
	}
	seqs, err := pairs(ctx, db, `SELECT schemaname, sequencename FROM pg_sequences WHERE sequenceowner = current_user AND schemaname !~ '^pg_' AND schemaname <> 'information_schema' ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, s := range seqs {
		if strings.HasPrefix(s[1], "audit_") || strings.HasPrefix(s[1], "goose_") {
			continue
		}
		stmts = append(stmts, `GRANT USAGE, SELECT ON SEQUENCE `+pgx.Identifier(s).Sanitize()+` TO `+r)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return audit.GrantAppRole(ctx, db, role)
}

func names(ctx context.Context, db *pgxpool.Pool, q string) ([]string, error) {
	rows, err := db.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func pairs(ctx context.Context, db *pgxpool.Pool, q string) ([][]string, error) {
	rows, err := db.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) ([]string, error) {
		var a, b string
		err := row.Scan(&a, &b)
		return []string{a, b}, err
	})
}
