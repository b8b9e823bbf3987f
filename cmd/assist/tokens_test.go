package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// cli runs the assist command line with args and returns its output.
func cli(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd([]string{"ASSIST_DATABASE_URL=" + dbURL})
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
	token := strings.Fields(out)[0]
	if !strings.HasPrefix(token, auth.TokenPrefix) {
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
