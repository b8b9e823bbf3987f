package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/cmd/internal/schema"
)

// nextRelease returns set with one more migration appended: what the next
// release's additive migration looks like (SQL given as the Up part).
func nextRelease(t testing.TB, set pgdb.MigrationSet, up, down string) (pgdb.MigrationSet, int64) {
	t.Helper()
	files := fstest.MapFS{}
	var last int64
	err := fs.WalkDir(set.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(set.FS, p)
		if err != nil {
			return err
		}
		files[p] = &fstest.MapFile{Data: b}
		if v, err := strconv.ParseInt(strings.SplitN(path.Base(p), "_", 2)[0], 10, 64); err == nil {
			last = max(last, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	next := last + 1
	files[fmt.Sprintf("%05d_next_release.sql", next)] = &fstest.MapFile{Data: []byte(
		"-- +goose Up\n" + up + "\n-- +goose Down\n" + down + "\n")}
	return pgdb.MigrationSet{Name: set.Name, FS: files}, next
}

// TestNewerSchemaServedByThisBinary is the rolling upgrade's middle: the
// next release's migration Job has run (additive: a new nullable column
// on the audit records, a new table, a bumped version) while this
// release's pods still serve. This binary must start on that schema,
// serve, and keep an audit log that verifies.
func TestNewerSchemaServedByThisBinary(t *testing.T) {
	ctx := context.Background()
	dbURL := startDBURL(t)
	var auditSet pgdb.MigrationSet
	for _, s := range schema.Sets() {
		if s.Name == audit.Migrations.Name {
			auditSet = s
		}
	}
	next, version := nextRelease(t, auditSet,
		"ALTER TABLE audit_records ADD COLUMN next_release_note text;\nCREATE TABLE next_release_items (id bigint PRIMARY KEY, note text);",
		"DROP TABLE next_release_items;\nALTER TABLE audit_records DROP COLUMN next_release_note;")
	if err := pgdb.Migrate(ctx, dbURL, next); err != nil {
		t.Fatalf("the next release's migration: %v", err)
	}

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ay := auditYAML(t)
	g := startGatewayWithDB(t, u, u.Host, hostYAML("h1", ollamaURL(t), 2), ay+"models:\n  chat: "+testModel()+"\n")
	var got int64
	if err := g.DB.QueryRow(ctx, "SELECT max(version_id) FROM goose_"+auditSet.Name).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != version {
		t.Fatalf("the database's %s schema is at version %d, want the next release's %d", auditSet.Name, got, version)
	}
	if p, err := pgdb.PendingMigrations(ctx, g.DB, schema.Sets()...); err != nil || len(p) != 0 {
		t.Fatalf("a newer schema counts as pending: %v %v", p, err)
	}

	const risk = `{"drugs":[{"name":"Eliquis 5 mg"},{"name":"Burana 400 mg"}],"patient":{"age":82,"egfr":35,"falls":true}}`
	gen := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":4}}`, testModel(), promptMarker)
	streamed := fmt.Sprintf(`{"model":%q,"prompt":%q,"options":{"num_predict":6}}`, testModel(), promptMarker)
	for _, c := range [][2]string{{"/v1/risk/assess", risk}, {"/api/generate", gen}, {"/api/generate", streamed}} {
		resp := g.do(t, assist.RoleClinician, "POST", c[0], c[1])
		if body := readAll(t, resp); resp.StatusCode != 200 {
			t.Fatalf("%s on the newer schema: %d %s", c[0], resp.StatusCode, body)
		}
	}
	// The next release's column exists and this binary leaves it NULL.
	var records, notes int64
	if err := g.DB.QueryRow(ctx, `SELECT count(*), count(next_release_note) FROM audit_records`).Scan(&records, &notes); err != nil {
		t.Fatal(err)
	}
	if records < 3 || notes != 0 {
		t.Fatalf("audit records on the newer schema: %d records, %d with the new column set", records, notes)
	}
	cp, err := audit.SignStoredCheckpoint(ctx, g.DB, auditPrivateKey(t, ay), audit.DefaultOrigin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyDB(ctx, g.DB, audit.VerifyOptions{PublicKey: auditPublicKey(t, ay)})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.VerifiedSize != cp.Size || cp.Size != records {
		t.Fatalf("audit log on the newer schema: ok %v, verified %d of %d records (checkpoint %d): %v", rep.OK(), rep.VerifiedSize, records, cp.Size, rep.Findings)
	}
}
