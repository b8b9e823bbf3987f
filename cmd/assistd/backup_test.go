package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// pgBinDir holds the PostgreSQL 15 server programs (pg_dump, pg_ctl, …).
const pgBinDir = "/usr/lib/postgresql/15/bin"

// pgProgram returns the path of a PostgreSQL 15 program; without it the
// test skips, or fails under CI=true (a missing real component never
// gives a green build).
func pgProgram(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(pgBinDir, name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI=true: %v (run scripts/setup.sh)", name, err)
		}
		t.Skipf("%s is not installed: %v", name, err)
	}
	return p
}

// runTool runs a program with a generous timeout and fails the test with
// its output when it fails.
func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestBackupRestoreVerifies follows the documented backup procedure:
// audited traffic, a signed checkpoint kept apart from the database,
// pg_dump, restore into a new database, and `assist audit verify --db
// --trusted-checkpoints` on the copy. The restored log also keeps growing
// under a gateway started on it, and still verifies.
func TestBackupRestoreVerifies(t *testing.T) {
	pgDump, pgRestore := pgProgram(t, "pg_dump"), pgProgram(t, "pg_restore")
	ay := auditYAML(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), ay+"models:\n  chat: "+testModel()+"\n")
	bin := buildBinaries(t)
	const risk = `{"drugs":[{"name":"Eliquis 5 mg"},{"name":"Burana 400 mg"}],"patient":{"age":82,"egfr":35,"falls":true}}`
	gen := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":4}}`, testModel(), promptMarker)
	for range 3 {
		for _, c := range [][2]string{{"/v1/risk/assess", risk}, {"/api/generate", gen}} {
			if resp := g.do(t, assist.RoleClinician, "POST", c[0], c[1]); resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", c[0], resp.StatusCode, readAll(t, resp))
			} else {
				readAll(t, resp)
			}
		}
	}
	// Sign a checkpoint of everything stored now, and keep the signed
	// checkpoints apart from the database (an export's checkpoints.jsonl).
	pubFlag := []string{"--checkpoint-public-key", base64Pub(t, ay)}
	cliEnv := []string{"ASSIST_DATABASE_URL=" + g.DBURL, "ASSIST_AUDIT_CHECKPOINT_KEY=" + auditSeed(t, ay)}
	runCLI(t, bin, cliEnv, "audit", "checkpoint")
	export := filepath.Join(t.TempDir(), "export")
	runCLI(t, bin, cliEnv, append([]string{"audit", "export", "--out", export}, pubFlag...)...)
	trusted := filepath.Join(export, "checkpoints.jsonl")
	var records, checkpoints int64
	if err := g.DB.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM audit_records), (SELECT count(*) FROM audit_checkpoints)`).Scan(&records, &checkpoints); err != nil {
		t.Fatal(err)
	}
	if records < 6 || checkpoints < 1 {
		t.Fatalf("%d records, %d checkpoints before the backup", records, checkpoints)
	}

	// Back up, restore into a new database.
	dump := filepath.Join(t.TempDir(), "assist.dump")
	runTool(t, pgDump, "--format=custom", "--file", dump, "--dbname", g.DBURL)
	restored := pgtest.NewDatabase(t) // empty
	runTool(t, pgRestore, "--no-owner", "--no-acl", "--exit-on-error", "--dbname", restored, dump)

	out, err := auditVerify(t, bin, restored, ay, "--trusted-checkpoints", trusted)
	if err != nil || !strings.Contains(out, "OK: no tampering found") || !strings.Contains(out, fmt.Sprintf("seq 1..%d intact", records)) {
		t.Fatalf("verify of the restored copy: %v\n%s", err, out)
	}

	// The restored database serves: a gateway on it appends after the
	// restored records, and the log still verifies against the old
	// checkpoints.
	u, err := url.Parse(restored)
	if err != nil {
		t.Fatal(err)
	}
	g2 := startGatewayWithDB(t, u, u.Host, hostYAML("h1", ollamaURL(t), 2), ay+"models:\n  chat: "+testModel()+"\n")
	if resp := g2.do(t, assist.RoleClinician, "POST", "/v1/risk/assess", risk); resp.StatusCode != 200 {
		t.Fatalf("gateway on the restored database: %d %s", resp.StatusCode, readAll(t, resp))
	} else {
		readAll(t, resp)
	}
	out, err = auditVerify(t, bin, restored, ay, "--trusted-checkpoints", trusted)
	if err != nil || !strings.Contains(out, "OK: no tampering found") || !strings.Contains(out, fmt.Sprintf("%d records (seq 1..%d)", records+1, records+1)) {
		t.Fatalf("verify after appending to the restored copy: %v\n%s", err, out)
	}
}

// runCLI runs the built assist binary with environ added.
func runCLI(t testing.TB, bin string, environ []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "assist"), args...)
	cmd.Env = append(os.Environ(), environ...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("assist %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
