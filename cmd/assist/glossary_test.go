package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/retrieval/pgstore"
)

// TestDocsGlossary loads the TICO-19 excerpt twice (the second time changes
// nothing) and finds an entry's terms by full-text search, as sessions do.
func TestDocsGlossary(t *testing.T) {
	pool, _ := pgtest.NewPool(t, pgstore.Migrations)
	open := docsOpener(pool)
	run := docsRunner(&env{}, open)
	file := filepath.Join("..", "..", "assist", "interpret", "testdata", "tico19_terminology_excerpt.jsonl")
	out, _, err := run("glossary", file, "--collection", "terms")
	if err != nil || !strings.Contains(out, "28 entries into terms (28 created, 0 updated, 0 unchanged)") {
		t.Fatalf("first load: %q %v", out, err)
	}
	out, _, err = run("glossary", file, "--collection", "terms")
	if err != nil || !strings.Contains(out, "(0 created, 0 updated, 28 unchanged)") {
		t.Fatalf("second load: %q %v", out, err)
	}
	svc, _, _, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hits, err := svc.Search(context.Background(), retrieval.Query{Collection: "terms", Text: "patient or fever", Mode: retrieval.ModeFullText})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range hits.Results {
		if h.Metadata["term.en"] == "fever" && h.Metadata["term.fi"] == "kuume" && h.Metadata["term.sv"] == "feber" {
			found = true
		}
	}
	if !found {
		t.Fatalf("fever not found: %+v", hits.Results)
	}
	if _, _, err := run("glossary", filepath.Join("..", "..", "go.mod"), "--collection", "terms"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("not JSON lines: %v", err)
	}
}
