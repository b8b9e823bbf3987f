package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/retrieval/pgstore"
	"github.com/soteai/gateway/retrieval/retrievaltest"
)

func TestDocsCommands(t *testing.T) {
	pool, _ := pgtest.NewPool(t, pgstore.Migrations)
	emb := &retrievaltest.BagOfWords{}
	open := func(context.Context) (*retrieval.Service, func(), error) {
		svc, err := retrieval.New(retrieval.Config{Store: pgstore.New(pool), Embedder: emb, DefaultModel: "bow",
			Parse: retrieval.ParseOptions{PDF: retrieval.PDFToText{}}})
		return svc, func() {}, err
	}
	dir := t.TempDir()
	corpus := filepath.Join("..", "..", "retrieval", "testdata", "corpus")
	for _, name := range []string{"verenpaine.md", "diabetes_sv.md"} {
		b, err := os.ReadFile(filepath.Join(corpus, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		cmd := newDocsCmd(open)
		var out, errOut bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), errOut.String(), err
	}

	out, _, err := run("ingest", dir, "--collection", "guides", "--meta", "kind=guideline")
	if err == nil || !strings.Contains(err.Error(), "1 of 3 files failed") {
		t.Fatalf("ingest with one empty file: %v", err)
	}
	for _, want := range []string{"created   verenpaine.md", "created   diabetes_sv.md", "FAILED  empty.txt: the document is empty"} {
		if !strings.Contains(out, want) {
			t.Errorf("ingest output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run("ingest", filepath.Join(dir, "verenpaine.md"), "--collection", "guides", "--meta", "kind=guideline", "--no-progress")
	if err != nil || !strings.Contains(out, "unchanged verenpaine.md") {
		t.Fatalf("re-ingest: %v\n%s", err, out)
	}
	out, _, err = run("search", "kotimittaus", "--collection", "guides", "--mode", "fulltext", "-k", "1")
	if err != nil || !strings.Contains(out, "verenpaine.md [") || !strings.Contains(out, "Mittaaminen") {
		t.Fatalf("search: %v\n%s", err, out)
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
	out, _, err = run("reembed", "--collection", "guides", "--model", "bow2", "--no-progress")
	if err != nil || !strings.Contains(out, "now embedded with bow2") {
		t.Fatalf("reembed: %v\n%s", err, out)
	}
	if _, _, err := run("delete", "--collection", "guides"); err == nil {
		t.Fatal("delete without --document or --all succeeded")
	}
	out, _, err = run("delete", "--collection", "guides", "--all")
	if err != nil || !strings.Contains(out, "deleted collection guides") {
		t.Fatalf("delete: %v\n%s", err, out)
	}
}
