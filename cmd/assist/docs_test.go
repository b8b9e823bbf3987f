package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/retrieval/pgstore"
	"github.com/soteai/gateway/retrieval/retrievaltest"
)

// docsOpener opens the retrieval service over pool with a bag-of-words
// embedder, the default model "bow".
func docsOpener(pool *pgxpool.Pool) retrievalOpener {
	emb := &retrievaltest.BagOfWords{}
	return func(context.Context) (*retrieval.Service, *pgxpool.Pool, func(), error) {
		svc, err := retrieval.New(retrieval.Config{Store: pgstore.New(pool), Embedder: emb, DefaultModel: "bow",
			Parse: retrieval.ParseOptions{PDF: retrieval.PDFToText{}}})
		return svc, pool, func() {}, err
	}
}

// corpusDir copies the named test corpus files into a new directory.
func corpusDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	corpus := filepath.Join("..", "..", "retrieval", "testdata", "corpus")
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(corpus, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// docsRunner runs "assist docs" sub-commands with e and open and returns
// their stdout and stderr.
func docsRunner(e *env, open retrievalOpener) func(args ...string) (string, string, error) {
	return func(args ...string) (string, string, error) {
		cmd := newDocsCmd(e, open)
		var out, errOut bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), errOut.String(), err
	}
}

func TestDocsCommands(t *testing.T) {
	pool, _ := pgtest.NewPool(t, pgstore.Migrations)
	dir := corpusDir(t, "verenpaine.md", "diabetes_sv.md")
	if err := os.WriteFile(filepath.Join(dir, "empty.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run := docsRunner(&env{}, docsOpener(pool))
	const note = "note: not recorded in the audit log (give --config to record document changes)"

	out, errOut, err := run("ingest", dir, "--collection", "guides", "--meta", "kind=guideline")
	if err == nil || !strings.Contains(err.Error(), "1 of 3 files failed") {
		t.Fatalf("ingest with one empty file: %v", err)
	}
	for _, want := range []string{"created   verenpaine.md", "created   diabetes_sv.md", "FAILED  empty.txt: the document is empty"} {
		if !strings.Contains(out, want) {
			t.Errorf("ingest output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, note) || strings.Contains(out, "audit seq") {
		t.Errorf("ingest without --config must say it records nothing:\nstdout %s\nstderr %s", out, errOut)
	}
	out, errOut, err = run("ingest", filepath.Join(dir, "verenpaine.md"), "--collection", "guides", "--meta", "kind=guideline", "--no-progress")
	if err != nil || !strings.Contains(out, "unchanged verenpaine.md") || !strings.Contains(errOut, note) {
		t.Fatalf("re-ingest: %v\n%s\n%s", err, out, errOut)
	}
	out, errOut, err = run("search", "kotimittaus", "--collection", "guides", "--mode", "fulltext", "-k", "1")
	if err != nil || !strings.Contains(out, "verenpaine.md [") || !strings.Contains(out, "Mittaaminen") || strings.Contains(errOut, "note:") {
		t.Fatalf("search (which changes nothing, so notes nothing): %v\n%s\n%s", err, out, errOut)
	}
	out, _, err = run("search", "metformin", "--collection", "guides", "--json", "--lang", "sv")
	if err != nil || !strings.Contains(out, `"source": "diabetes_sv.md"`) {
		t.Fatalf("search --json: %v\n%s", err, out)
	}
	out, _, err = run("list")
	if err != nil || !strings.Contains(out, "guides") || !strings.Contains(out, "bow") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, err = run("list", "--collection", "guides")
	if err != nil || !strings.Contains(out, "diabetes_sv.md") {
		t.Fatalf("list documents: %v\n%s", err, out)
	}
	out, errOut, err = run("reembed", "--collection", "guides", "--model", "bow2", "--no-progress")
	if err != nil || !strings.Contains(out, "now embedded with bow2") || !strings.Contains(errOut, note) {
		t.Fatalf("reembed: %v\n%s\n%s", err, out, errOut)
	}
	if _, _, err := run("delete", "--collection", "guides"); err == nil {
		t.Fatal("delete without --document or --all succeeded")
	}
	out, errOut, err = run("delete", "--collection", "guides", "--all")
	if err != nil || !strings.Contains(out, "deleted collection guides") || !strings.Contains(errOut, note) {
		t.Fatalf("delete: %v\n%s\n%s", err, out, errOut)
	}
}

// TestDocsChangesAreAudited checks that, with --config, every applied
// change leaves the record the HTTP API would write: the same kind, model
// and attrs, the CLI's user as an admin actor.
func TestDocsChangesAreAudited(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t, migrations()...)
	pool, err := pgdb.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cfgPath := filepath.Join(t.TempDir(), "assistd.yaml")
	yaml := "database:\n  url: " + dbURL + "\nhosts:\n  - url: http://127.0.0.1:9\naudit:\n  hmac_key: " +
		strings.Repeat("ab", 32) + "\n  checkpoint_key: " + strings.Repeat("cd", 32) + "\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := corpusDir(t, "verenpaine.md", "diabetes_sv.md")
	run := docsRunner(&env{configPath: cfgPath}, docsOpener(pool))
	store := audit.NewStore(pool)
	// newest returns the newest audit record, which must be seq want.
	newest := func(t *testing.T, want int64) audit.Record {
		t.Helper()
		n, err := store.Size(ctx)
		if err != nil || n != want {
			t.Fatalf("audit log size %d (%v), want %d", n, err, want)
		}
		r, err := store.Record(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.ActorTokenID, "cli:") || r.ActorRole != assist.RoleAdmin || r.Outcome != audit.OutcomeOK {
			t.Errorf("record %d: actor %q role %q outcome %q", r.Seq, r.ActorTokenID, r.ActorRole, r.Outcome)
		}
		return r
	}
	checkAttrs := func(t *testing.T, r audit.Record, want map[string]string) {
		t.Helper()
		if !maps.Equal(r.Attrs, want) {
			t.Errorf("record %d (%s) attrs\n got %v\nwant %v", r.Seq, r.Kind, r.Attrs, want)
		}
	}
	verenpaine, err := os.ReadFile(filepath.Join(dir, "verenpaine.md"))
	if err != nil {
		t.Fatal(err)
	}
	verenpaineSum := sha256.Sum256(verenpaine)

	// Ingest: one record per file, in order (the directory walk is sorted).
	out, errOut, err := run("ingest", dir, "--collection", "guides", "--no-progress")
	if err != nil || !strings.Contains(out, "audit seq 1)") || !strings.Contains(out, "audit seq 2)") || strings.Contains(errOut, "note:") {
		t.Fatalf("ingest: %v\n%s\n%s", err, out, errOut)
	}
	docs, err := retrievalDocs(ctx, pool, "guides")
	if err != nil {
		t.Fatal(err)
	}
	vp, dia := docs["verenpaine.md"], docs["diabetes_sv.md"]
	first, err := store.Record(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	ingested := newest(t, 2)
	if first.Kind != audit.KindRetrievalIngest || first.Attrs["source"] != "diabetes_sv.md" || first.Attrs["document_id"] != strconv.FormatInt(dia.ID, 10) {
		t.Errorf("first ingest record %+v", first)
	}
	if ingested.Kind != audit.KindRetrievalIngest || ingested.Model != "bow" || ingested.ModelDigest == "" ||
		!bytes.Equal(ingested.InputHash, verenpaineSum[:]) || len(ingested.OutputHash) != sha256.Size {
		t.Errorf("ingest record %+v", ingested)
	}
	checkAttrs(t, ingested, map[string]string{"collection": "guides", "source": "verenpaine.md", "document_id": strconv.FormatInt(vp.ID, 10),
		"content_hash": vp.ContentHash, "put_status": "created", "lang": "fi", "chunks": strconv.Itoa(vp.Chunks), "embedded": strconv.Itoa(vp.Chunks)})

	// Re-ingest of an unchanged file: recorded too, as unchanged.
	out, _, err = run("ingest", filepath.Join(dir, "verenpaine.md"), "--collection", "guides", "--no-progress")
	if err != nil || !strings.Contains(out, "unchanged verenpaine.md") || !strings.Contains(out, "audit seq 3)") {
		t.Fatalf("re-ingest: %v\n%s", err, out)
	}
	reingested := newest(t, 3)
	if reingested.Kind != audit.KindRetrievalIngest || reingested.Model != "bow" || !bytes.Equal(reingested.InputHash, verenpaineSum[:]) {
		t.Errorf("re-ingest record %+v", reingested)
	}
	checkAttrs(t, reingested, map[string]string{"collection": "guides", "source": "verenpaine.md", "document_id": strconv.FormatInt(vp.ID, 10),
		"content_hash": vp.ContentHash, "put_status": "unchanged", "lang": "fi", "chunks": strconv.Itoa(vp.Chunks), "embedded": "0"})

	// Delete one document: the removed version's source and content hash.
	out, errOut, err = run("delete", "--collection", "guides", "--document", strconv.FormatInt(dia.ID, 10))
	if err != nil || !strings.Contains(out, "deleted document") || !strings.Contains(errOut, "recorded in the audit log as seq 4") {
		t.Fatalf("delete: %v\n%s\n%s", err, out, errOut)
	}
	deleted := newest(t, 4)
	if deleted.Kind != audit.KindRetrievalDelete {
		t.Errorf("delete record %+v", deleted)
	}
	checkAttrs(t, deleted, map[string]string{"collection": "guides", "document_id": strconv.FormatInt(dia.ID, 10), "source": "diabetes_sv.md",
		"content_hash": dia.ContentHash, "lang": "sv"})

	// Re-embed: the new model, and the one the collection had.
	out, errOut, err = run("reembed", "--collection", "guides", "--model", "bow2", "--m", "8", "--no-progress")
	if err != nil || !strings.Contains(out, "now embedded with bow2") || !strings.Contains(errOut, "recorded in the audit log as seq 5") {
		t.Fatalf("reembed: %v\n%s\n%s", err, out, errOut)
	}
	reembedded := newest(t, 5)
	coll, err := docsService(t, pool).Collection(ctx, "guides")
	if err != nil {
		t.Fatal(err)
	}
	if reembedded.Kind != audit.KindRetrievalReembed || reembedded.Model != "bow2" || reembedded.ModelDigest != coll.Model.Digest ||
		reembedded.ModelDigest == ingested.ModelDigest {
		t.Errorf("reembed record %+v", reembedded)
	}
	checkAttrs(t, reembedded, map[string]string{"collection": "guides", "previous_model": "bow", "previous_digest": ingested.ModelDigest,
		"dims": strconv.Itoa(coll.Model.Dims), "documents": "1", "chunks": strconv.Itoa(vp.Chunks),
		"hnsw_m": "8", "hnsw_ef_construction": strconv.Itoa(coll.Index.EfConstruction), "hnsw_ef_search": strconv.Itoa(coll.Index.EfSearch)})

	// A change applied while the log cannot be written fails the command,
	// saying it was applied but not recorded.
	if _, err := pool.Exec(ctx, `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log down'; END $$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION refuse_audit()`); err != nil {
		t.Fatal(err)
	}
	out, _, err = run("ingest", filepath.Join(dir, "diabetes_sv.md"), "--collection", "guides", "--no-progress")
	if err == nil || !strings.Contains(err.Error(), "the change was applied but could not be recorded in the audit log: diabetes_sv.md ingested as document") ||
		!strings.Contains(err.Error(), "ingest it again once the audit log is back") || strings.Contains(out, "diabetes_sv.md") {
		t.Fatalf("ingest with the log down: %v\n%s", err, out)
	}
	if docs, err := retrievalDocs(ctx, pool, "guides"); err != nil || docs["diabetes_sv.md"].ID == 0 {
		t.Fatalf("the ingest was not applied: %v %v", docs, err)
	}
	if _, _, err := run("delete", "--collection", "guides", "--all"); err == nil ||
		!strings.Contains(err.Error(), "the change was applied but could not be recorded in the audit log: deleted collection guides (2 documents") {
		t.Fatalf("delete with the log down: %v", err)
	}
	if _, err := pool.Exec(ctx, `DROP TRIGGER refuse_audit ON audit_records`); err != nil {
		t.Fatal(err)
	}
	newest(t, 5)

	// What the CLI recorded verifies, checkpoints included.
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.AuditOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyDB(ctx, pool, audit.VerifyOptions{PublicKey: opts.CheckpointKey.Public().(ed25519.PublicKey)})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

func docsService(t *testing.T, pool *pgxpool.Pool) *retrieval.Service {
	t.Helper()
	svc, _, _, err := docsOpener(pool)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// retrievalDocs returns a collection's documents by source.
func retrievalDocs(ctx context.Context, pool *pgxpool.Pool, collection string) (map[string]retrieval.Document, error) {
	svc, _, _, err := docsOpener(pool)(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := svc.Documents(ctx, collection)
	if err != nil {
		return nil, err
	}
	m := map[string]retrieval.Document{}
	for _, d := range ds {
		m[d.Source] = d
	}
	return m, nil
}
