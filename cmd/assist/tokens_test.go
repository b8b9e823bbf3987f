package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

func TestTokensLifecycle(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	if out, err := cli(t, dbURL, "migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	if out, err := cli(t, dbURL, "migrate"); err != nil {
		t.Fatalf("migrate twice: %v %s", err, out)
	}
	out, err := cli(t, dbURL, "tokens", "create", "ehr-integration", "--role", "service")
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
	if out, err := cli(t, dbURL, "tokens", "revoke", id); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if _, err := cli(t, dbURL, "tokens", "revoke", id); err == nil {
		t.Fatal("revoking twice succeeded")
	}
	for _, args := range [][]string{
		{"tokens", "create", "x", "--role", "superuser"},
		{"tokens", "create", "x"},
		{"tokens", "add-ollama-key", "k", "--role", "clinician", "/nonexistent.pub"},
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
	cfg := filepath.Join(t.TempDir(), "assistd.yaml")
	yaml := "database:\n  url: " + dbURL + "\nhosts:\n  - url: http://127.0.0.1:9\naudit:\n  hmac_key: " +
		strings.Repeat("ab", 32) + "\n  checkpoint_key: " + strings.Repeat("cd", 32) + "\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
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
