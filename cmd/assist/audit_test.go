package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// auditCLI runs `assist audit ARGS` against the database at dbURL.
func auditCLI(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	cmd := newAuditCmd(&env{environ: []string{"ASSIST_DATABASE_URL=" + dbURL}})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true // as under the root command
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestAuditCommands(t *testing.T) {
	ctx := context.Background()
	db, dbURL := pgtest.NewPool(t, audit.Migrations)
	keys := filepath.Join(t.TempDir(), "keys")
	if out, err := auditCLI(t, dbURL, "keygen", "--out", keys); err != nil {
		t.Fatalf("keygen: %v %s", err, out)
	}
	if _, err := auditCLI(t, dbURL, "keygen", "--out", keys); err == nil {
		t.Fatal("keygen overwrote existing keys")
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(keys, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	priv, err := audit.ParsePrivateKey(read("checkpoint.key"))
	if err != nil {
		t.Fatal(err)
	}
	hmacKey, err := audit.ParseSymmetricKey(read("hmac.key"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(ctx, db, audit.Options{HMACKey: hmacKey, CheckpointKey: priv, CheckpointEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		_, err := l.Append(ctx, audit.Event{Kind: audit.KindAIOutput, Patient: "131052-308T",
			Input: []byte(fmt.Sprint("prompt ", i)), Output: []byte("answer"), Actor: assist.Actor{TokenID: "tok-1"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(keys, "checkpoint.pub")
	keyFile := filepath.Join(keys, "checkpoint.key")

	if out, err := auditCLI(t, dbURL, "checkpoint", "--checkpoint-key-file", keyFile); err != nil || !strings.Contains(out, "size 30") {
		t.Fatalf("checkpoint: %v %s", err, out)
	}
	clean := filepath.Join(t.TempDir(), "clean")
	if out, err := auditCLI(t, dbURL, "export", "--out", clean, "--checkpoint-public-key", pub); err != nil || !strings.Contains(out, "30 records") {
		t.Fatalf("export: %v %s", err, out)
	}
	if _, err := auditCLI(t, dbURL, "export", "--out", clean, "--checkpoint-public-key", pub); err == nil {
		t.Fatal("export overwrote an export")
	}
	for _, args := range [][]string{
		{"verify", "--dir", clean, "--checkpoint-public-key", pub},
		{"verify", "--dir", clean}, // key from the export, with a warning
		{"verify", "--db", "--checkpoint-public-key", pub},
	} {
		out, err := auditCLI(t, dbURL, args...)
		if err != nil || !strings.Contains(out, "OK: no tampering found") || !strings.Contains(out, "seq 1..30 intact") {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	if out, err := auditCLI(t, dbURL, "verify", "--db"); err == nil {
		t.Fatalf("verify --db without a trusted key succeeded: %s", out)
	}

	// An attacker with superuser rights changes one byte.
	for _, s := range []string{
		`ALTER TABLE audit_records DISABLE TRIGGER USER`,
		`UPDATE audit_records SET output_sha256 = set_byte(output_sha256, 0, (get_byte(output_sha256, 0) + 1) % 256) WHERE seq = 17`,
	} {
		if _, err := db.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	tampered := filepath.Join(t.TempDir(), "tampered")
	if out, err := auditCLI(t, dbURL, "export", "--out", tampered); err != nil {
		t.Fatalf("export: %v %s", err, out)
	}
	for _, args := range [][]string{
		{"verify", "--db", "--checkpoint-public-key", pub},
		{"verify", "--dir", tampered, "--checkpoint-public-key", pub},
	} {
		out, err := auditCLI(t, dbURL, args...)
		if err == nil || !strings.Contains(out, "modified: seq 17: leaf hash mismatch") {
			t.Fatalf("%v: tampering not reported: %v\n%s", args, err, out)
		}
		t.Logf("%v:\n%s", args, out)
	}
	out, err := auditCLI(t, dbURL, "verify", "--db", "--json", "--checkpoint-public-key", pub)
	if err == nil || !strings.Contains(out, `"kind": "modified"`) {
		t.Fatalf("json report: %v\n%s", err, out)
	}
	if strings.Contains(out, "131052-308T") {
		t.Fatal("the report holds an identity code")
	}
}

func TestAuditVerifyNeedsOneSource(t *testing.T) {
	for _, args := range [][]string{{"verify"}, {"verify", "--db", "--dir", "x"}} {
		if _, err := auditCLI(t, "postgres://127.0.0.1:1/none", args...); assist.KindOf(err) != assist.KindInvalid {
			t.Errorf("%v: got %v", args, err)
		}
	}
}
