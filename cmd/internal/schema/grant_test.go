package schema_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/cmd/internal/schema"
)

// TestGrantApp: the role GrantApp sets up reads the migration versions but
// cannot change them, appends to and reads the audit log but cannot
// change it, works on the other tables, and gets nothing on the system
// catalogs even when a superuser runs the grant.
func TestGrantApp(t *testing.T) {
	ctx := context.Background()
	db, dbURL := pgtest.NewPool(t, schema.Sets()...)
	role := fmt.Sprintf("grant_app_%d", time.Now().UnixNano()%1e9)
	if _, err := db.Exec(ctx, `CREATE ROLE `+role+` LOGIN PASSWORD 'app-pw'`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec(context.Background(), `DROP OWNED BY `+role)
		_, _ = db.Exec(context.Background(), `DROP ROLE IF EXISTS `+role)
	})
	if err := schema.GrantApp(ctx, db, ""); err == nil {
		t.Fatal("GrantApp without a role: no error")
	}
	if err := schema.GrantApp(ctx, db, role); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "app-pw")
	app, err := pgdb.Open(ctx, u.String(), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)

	pending, err := pgdb.PendingMigrations(ctx, app, schema.Sets()...)
	if err != nil || len(pending) != 0 {
		t.Fatalf("the app role's start-up check: pending %v, err %v", pending, err)
	}
	for _, tc := range []struct {
		name, sql string
		allowed   bool
	}{
		{"read audit records", `SELECT count(*) FROM audit_records`, true},
		{"update audit records", `UPDATE audit_records SET seq = seq WHERE false`, false},
		{"delete audit records", `DELETE FROM audit_records WHERE false`, false},
		{"truncate audit records", `TRUNCATE audit_records`, false},
		{"read migration versions", `SELECT count(*) FROM goose_audit`, true},
		{"change migration versions", `DELETE FROM goose_audit WHERE false`, false},
		{"read tokens", `SELECT count(*) FROM auth_tokens`, true},
		{"change tokens", `UPDATE auth_tokens SET name = name WHERE false`, true},
		{"write a catalog", `UPDATE pg_catalog.pg_class SET relname = relname WHERE false`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := app.Exec(ctx, tc.sql)
			var pe *pgconn.PgError
			switch {
			case tc.allowed && err != nil:
				t.Errorf("%s: %v", tc.sql, err)
			case !tc.allowed && (!errors.As(err, &pe) || pe.Code != "42501"):
				t.Errorf("%s: err %v, want permission denied (42501)", tc.sql, err)
			}
		})
	}
	var canWriteCatalog bool
	if err := db.QueryRow(ctx, `SELECT has_table_privilege($1, 'pg_catalog.pg_authid', 'UPDATE')`, role).Scan(&canWriteCatalog); err != nil {
		t.Fatal(err)
	}
	if canWriteCatalog {
		t.Error("the app role may update pg_authid")
	}
}
