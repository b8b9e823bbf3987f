package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// cli runs the assist command line with args and returns its output.
func cli(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	var environ []string
	if dbURL != "" {
		environ = []string{"ASSIST_DATABASE_URL=" + dbURL}
	}
	root := newRootCmd(environ)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// auditConfig writes a gateway configuration with an enabled audit log
// over dbURL and returns its path.
func auditConfig(t *testing.T, dbURL string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "assistd.yaml")
	yaml := "database:\n  url: " + dbURL + "\nhosts:\n  - url: http://127.0.0.1:9\naudit:\n  hmac_key: " +
		strings.Repeat("ab", 32) + "\n  checkpoint_key: " + strings.Repeat("cd", 32) + "\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestTokensLifecycle(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	if out, err := cli(t, dbURL, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	if out, err := cli(t, dbURL, "migrate"); err != nil {
		t.Fatalf("migrate twice: %v %s", err, out)
	}
	cfg := auditConfig(t, dbURL)
	out, err := cli(t, dbURL, "--config", cfg, "tokens", "create", "ehr-integration", "--role", "service")
	if err != nil {
		t.Fatalf("create: %v %s", err, out)
	}
	token := ""
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, auth.TokenPrefix) {
			token = f
		}
	}
	if token == "" {
		t.Fatalf("no token printed: %q", out)
	}
	list, err := cli(t, dbURL, "tokens", "list")
	if err != nil || !strings.Contains(list, "ehr-integration") || strings.Contains(list, token) {
		t.Fatalf("list must show the token's name but never the token: %v\n%s", err, list)
	}
	id := ""
	for _, f := range strings.Fields(list) {
		if strings.HasPrefix(f, "tok_") {
			id = f
		}
	}
	if out, err := cli(t, dbURL, "--config", cfg, "tokens", "revoke", id); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if _, err := cli(t, dbURL, "--config", cfg, "tokens", "revoke", id); err == nil {
		t.Fatal("revoking twice succeeded")
	}
	for _, args := range [][]string{
		{"--config", cfg, "tokens", "create", "x", "--role", "superuser"},
		{"--config", cfg, "tokens", "create", "x"},
		{"--config", cfg, "tokens", "add-ollama-key", "k", "--role", "clinician", "/nonexistent.pub"},
	} {
		if out, err := cli(t, dbURL, args...); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
}

func TestTokenChangesAreAudited(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	if out, err := cli(t, dbURL, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	cfg := auditConfig(t, dbURL)
	out, err := cli(t, "", "--config", cfg, "tokens", "create", "ward-7", "--role", "clinician")
	if err != nil || !strings.Contains(out, "recorded in the audit log") {
		t.Fatalf("create: %v %s", err, out)
	}
	db, err := pgdb.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var kind, role string
	if err := db.QueryRow(context.Background(), `SELECT kind, attrs->>'role' FROM audit_records ORDER BY seq DESC LIMIT 1`).Scan(&kind, &role); err != nil {
		t.Fatal(err)
	}
	if kind != "token.create" || role != "clinician" {
		t.Fatalf("audit record %s %s", kind, role)
	}
}

// Credential changes are always audited: without a configuration (or with
// auditing disabled) the CLI refuses and changes nothing; a credential
// whose record fails is rolled back, and a failed rollback is reported
// with the credential's id.
func TestCredentialChangesNeedTheAuditLog(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	if out, err := cli(t, dbURL, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	db, err := pgdb.Open(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func() (n int) {
		if err := db.QueryRow(ctx, `SELECT count(*) FROM auth_tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	disabled := filepath.Join(t.TempDir(), "off.yaml")
	if err := os.WriteFile(disabled, []byte("database:\n  url: "+dbURL+"\nhosts:\n  - url: http://127.0.0.1:9\naudit:\n  enabled: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no configuration":         {"tokens", "create", "x", "--role", "clinician"},
		"auditing disabled":        {"--config", disabled, "tokens", "create", "x", "--role", "clinician"},
		"revoke, no configuration": {"tokens", "revoke", "tok_0000000000000000"},
	} {
		out, err := cli(t, dbURL, args...)
		if err == nil || !strings.Contains(err.Error(), "always recorded in the audit log") || strings.Contains(out, auth.TokenPrefix) {
			t.Errorf("%s: %v %q, want a refusal naming the audit log and no token", name, err, out)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d credentials created although the change could not be recorded", n)
	}

	// The audit append fails after the credential was written.
	failing := func(breakDelete bool) *env {
		return &env{environ: []string{"ASSIST_DATABASE_URL=" + dbURL},
			openAudit: func(ctx context.Context, db *pgxpool.Pool, opts audit.Options) (auditAppender, error) {
				l, err := audit.Open(ctx, db, opts)
				return failingAppend{l, db, breakDelete}, err
			}}
	}
	run := func(e *env, args ...string) (string, error) {
		root := newRootCmdEnv(e)
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append([]string{"--config", auditConfig(t, dbURL)}, args...))
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}
	out, err := run(failing(false), "tokens", "create", "x", "--role", "clinician")
	if err == nil || strings.Contains(out, auth.TokenPrefix) || count() != 0 {
		t.Fatalf("failed record: %v %q, %d credentials left; want an error, no token and none left", err, out, count())
	}
	out, err = run(failing(true), "tokens", "create", "y", "--role", "clinician")
	var id string
	_ = db.QueryRow(ctx, `SELECT id FROM auth_tokens`).Scan(&id)
	if err == nil || id == "" || !strings.Contains(err.Error(), "rolling it back failed too") || !strings.Contains(err.Error(), id) ||
		strings.Contains(out, auth.TokenPrefix) {
		t.Fatalf("failed record and failed rollback: %v %q; want an error naming credential %q", err, out, id)
	}
}

// failingAppend is a real audit log whose appends fail; with breakDelete it
// also makes deleting credentials fail, as a broken connection would.
type failingAppend struct {
	*audit.Log
	db          *pgxpool.Pool
	breakDelete bool
}

func (f failingAppend) Append(ctx context.Context, _ audit.Event) (audit.Receipt, error) {
	if f.breakDelete {
		if _, err := f.db.Exec(ctx, `CREATE FUNCTION no_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'broken'; END $$;
			CREATE TRIGGER no_delete BEFORE DELETE ON auth_tokens FOR EACH ROW EXECUTE FUNCTION no_delete()`); err != nil {
			return audit.Receipt{}, err
		}
	}
	return audit.Receipt{}, errors.New("audit store unavailable")
}
