package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/audit/audittest"
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
		{"verify", "--db", "--checkpoint-public-key", pub},
	} {
		out, err := auditCLI(t, dbURL, args...)
		if err != nil || !strings.Contains(out, "OK: no tampering found") || !strings.Contains(out, "seq 1..30 intact") {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	// Without a trusted key, neither source is verified: an export's own
	// key proves nothing about the export.
	for _, args := range [][]string{{"verify", "--db"}, {"verify", "--dir", clean}} {
		if out, err := auditCLI(t, dbURL, args...); err == nil || !strings.Contains(err.Error(), "trusted checkpoint public key is required") {
			t.Fatalf("%v without a trusted key: %v %s, want a refusal", args, err, out)
		}
	}

}

func TestAuditVerifyNeedsOneSource(t *testing.T) {
	for _, args := range [][]string{{"verify"}, {"verify", "--db", "--dir", "x"}} {
		if _, err := auditCLI(t, "postgres://127.0.0.1:1/none", args...); assist.KindOf(err) != assist.KindInvalid {
			t.Errorf("%v: got %v", args, err)
		}
	}
}

// TestAuditVerifyFindsTampering plays each tampering the audit issue lists
// on a fresh database, as a superuser in SQL, and checks that `assist audit
// verify` fails and names precisely what was done, both on the live
// database and on an export made after the tampering.
func TestAuditVerifyFindsTampering(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	if out, err := auditCLI(t, "", "keygen", "--out", keys); err != nil {
		t.Fatalf("keygen: %v %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(keys, "checkpoint.key"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := audit.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(keys, "checkpoint.pub")

	// {atN} is when the checkpoint of size N was signed, {key} the trusted
	// key's id, {wrong} the attacker's.
	tests := []struct {
		tm   audittest.Tampering
		want []string
	}{
		{audittest.OutputHashByte, []string{
			"modified: seq 17: leaf hash mismatch: the record was modified after it was written",
		}},
		{audittest.RowDeleted, []string{
			"missing: seq 23 absent",
			"unverifiable: checkpoint of size 40 cannot be checked: records it covers are missing or out of order",
			"unverifiable: checkpoint of size 50 cannot be checked: records it covers are missing or out of order",
		}},
		{audittest.RowsSwapped, []string{
			"reordered: seq 30 holds the record written as seq 31: rows were reordered",
			"reordered: seq 31 holds the record written as seq 30: rows were reordered",
			"root_mismatch: checkpoint of size 40 signed at {at40}: root hash mismatch: records in seq 21..40 differ from what was signed",
			"root_mismatch: checkpoint of size 50 signed at {at50}: root hash mismatch: records in seq 21..50 differ from what was signed",
		}},
		{audittest.TailTruncated, []string{
			"truncated: checkpoint of size 50 signed at {at50} covers seq 46..50, which are absent: the log was truncated after seq 45",
		}},
		{audittest.CheckpointResigned, []string{
			"forged_checkpoint: checkpoint of size 50 signed at {at50} (key {wrong}): signature does not verify with the trusted key {key}: forged or re-signed",
		}},
	}
	if len(tests) != len(audittest.Tamperings()) {
		t.Fatalf("%d tamperings tested, %d known", len(tests), len(audittest.Tamperings()))
	}
	for _, tt := range tests {
		t.Run(tt.tm.Name, func(t *testing.T) {
			ctx := context.Background()
			db, dbURL := pgtest.NewPool(t, audit.Migrations)
			cps := fillAuditLog(t, db, priv)
			vars := []string{"{key}", audit.KeyID(priv.Public().(ed25519.PublicKey)),
				"{wrong}", audit.KeyID(audittest.WrongKey().Public().(ed25519.PublicKey))}
			for _, c := range cps {
				vars = append(vars, fmt.Sprintf("{at%d}", c.Size), c.Time.Format(time.RFC3339))
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.NewReplacer(vars...).Replace(w))
			}

			if err := tt.tm.Apply(ctx, db); err != nil {
				t.Fatal(err)
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
				if wantErr := fmt.Sprintf("audit verification failed: %d finding(s)", len(want)); err == nil || err.Error() != wantErr {
					t.Errorf("%v: error %v, want %q", args, err, wantErr)
				}
				if got := findingLines(out); !slices.Equal(got, want) {
					t.Errorf("%v: findings\n  %s\nwant\n  %s\n%s", args, strings.Join(got, "\n  "), strings.Join(want, "\n  "), out)
				}
			}
			out, err := auditCLI(t, dbURL, "verify", "--db", "--json", "--checkpoint-public-key", pub)
			kind, _, _ := strings.Cut(tt.want[0], ":")
			if err == nil || !strings.Contains(out, `"kind": "`+kind+`"`) {
				t.Errorf("json report: %v\n%s", err, out)
			}
			if strings.Contains(out, "131052-308T") {
				t.Error("the report holds an identity code")
			}
		})
	}
}

// fillAuditLog builds the log audittest's tamperings assume and returns
// its checkpoints.
func fillAuditLog(t *testing.T, db *pgxpool.Pool, key ed25519.PrivateKey) []audit.Checkpoint {
	t.Helper()
	ctx := context.Background()
	l, err := audit.Open(ctx, db, audit.Options{HMACKey: make([]byte, 32), CheckpointKey: key, CheckpointEvery: -1, PurgeEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cps, err := audittest.Fill(ctx, l, func(i int) audit.Event {
		return audit.Event{Kind: audit.KindAIOutput, Patient: "131052-308T",
			Input: []byte(fmt.Sprint("prompt ", i)), Output: []byte("answer"), Actor: assist.Actor{TokenID: "tok-1"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	return cps
}

// findingLines are the findings a text report lists, one per line.
func findingLines(report string) []string {
	_, list, ok := strings.Cut(report, "FAILED: ")
	if !ok {
		return nil
	}
	var out []string
	for _, line := range strings.Split(list, "\n")[1:] {
		if f, ok := strings.CutPrefix(line, "  "); ok {
			out = append(out, f)
		}
	}
	return out
}

// TestAuditSigningKeySources: the flag, then ASSIST_AUDIT_CHECKPOINT_KEY_FILE
// and ASSIST_AUDIT_CHECKPOINT_KEY, then --config give the signing key, and
// the trusted public key defaults to its public half.
func TestAuditSigningKeySources(t *testing.T) {
	dir := t.TempDir()
	keyText := func(seed byte) string { return strings.Repeat(fmt.Sprintf("%02x", seed), 32) }
	keyOf := func(seed byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)) }
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flagFile := write("flag.key", string(audit.MarshalPrivateKey(keyOf(1))))
	envFile := write("env.key", keyText(2)+"\n")
	cfg := write("assistd.yaml", "database:\n  url: postgres://127.0.0.1:1/none\nhosts:\n  - url: http://127.0.0.1:9\n"+
		"audit:\n  hmac_key: "+keyText(9)+"\n  checkpoint_key: "+keyText(4)+"\n")

	tests := []struct {
		name    string
		flag    string
		environ []string
		config  string
		want    byte // seed of the key; 0: an invalid-argument error
	}{
		{name: "flag", flag: flagFile, want: 1},
		{name: "flag over environment", flag: flagFile, environ: []string{"ASSIST_AUDIT_CHECKPOINT_KEY_FILE=" + envFile}, config: cfg, want: 1},
		{name: "environment file", environ: []string{"ASSIST_AUDIT_CHECKPOINT_KEY_FILE=" + envFile}, want: 2},
		{name: "environment file over inline", environ: []string{"ASSIST_AUDIT_CHECKPOINT_KEY_FILE=" + envFile, "ASSIST_AUDIT_CHECKPOINT_KEY=" + keyText(3)}, want: 2},
		{name: "environment inline", environ: []string{"ASSIST_AUDIT_CHECKPOINT_KEY=" + keyText(3)}, want: 3},
		{name: "environment over configuration", environ: []string{"ASSIST_AUDIT_CHECKPOINT_KEY=" + keyText(3)}, config: cfg, want: 3},
		{name: "configuration", config: cfg, want: 4},
		{name: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{environ: tt.environ, configPath: tt.config}
			k, err := e.auditSigningKey(tt.flag)
			if tt.want == 0 {
				if assist.KindOf(err) != assist.KindInvalid {
					t.Fatalf("got %v, want an invalid-argument error", err)
				}
				return
			}
			if err != nil || !k.Equal(keyOf(tt.want)) {
				t.Fatalf("got key %v (%v), want the key of seed %d", k.Public(), err, tt.want)
			}
			if tt.flag != "" {
				return
			}
			pub, err := e.auditPublicKey("")
			if err != nil || !pub.Equal(keyOf(tt.want).Public()) {
				t.Fatalf("public key: %v", err)
			}
		})
	}
}
