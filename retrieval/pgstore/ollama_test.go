package pgstore_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/ollama"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/retrieval/pgstore"
)

// TestRealOllamaEmbeddings runs ingest and search end to end with a real
// Ollama server. The test model has random weights, so its rankings mean
// nothing: the test checks dimensions, the recorded digest, citations and
// that full-text hits survive fusion, not semantic quality.
func TestRealOllamaEmbeddings(t *testing.T) {
	url, model := os.Getenv("TEST_OLLAMA_URL"), os.Getenv("TEST_OLLAMA_MODEL")
	if url == "" || model == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_OLLAMA_URL and TEST_OLLAMA_MODEL are required under CI=true (run via make test)")
		}
		t.Skip("TEST_OLLAMA_URL/TEST_OLLAMA_MODEL not set; run `make test` to start a real Ollama")
	}
	pool, _ := pgtest.NewPool(t, pgstore.Migrations)
	// Embeddings go through the gateway's host pool, as in production.
	oc := ollama.NewClient(ollama.HTTPOptions{})
	hosts := models.NewPool([]models.HostConfig{{Name: "test", URL: strings.TrimRight(url, "/")}}, oc, models.Options{}, nil)
	hosts.Start(context.Background())
	t.Cleanup(hosts.Close)
	emb := &ollama.Service{Pool: hosts, Client: oc}
	svc, err := retrieval.New(retrieval.Config{Store: pgstore.New(pool), Embedder: emb, DefaultModel: model, BatchSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"verenpaine.md", "diabetes_sv.md", "falls_en.html"} {
		if _, err := svc.Ingest(ctx, retrieval.IngestRequest{Collection: "real", Source: name, Data: corpus(t, name)}); err != nil {
			t.Fatalf("ingest %s: %v", name, err)
		}
	}
	vecs, digest, err := emb.Embed(ctx, assist.PriorityBatch, model, []string{"probe"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Collection(ctx, "real")
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Name != model || c.Model.Digest != digest || c.Model.Dims != len(vecs[0]) || c.Model.Dims == 0 {
		t.Fatalf("collection model %+v, want %s %s with %d dims", c.Model, model, digest, len(vecs[0]))
	}
	var stored int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM retrieval.chunks WHERE vector_dims(embedding) = $1`, c.Model.Dims).Scan(&stored); err != nil || stored != c.Chunks {
		t.Fatalf("%d of %d chunks have %d dims (%v)", stored, c.Chunks, c.Model.Dims, err)
	}

	h, err := svc.Search(ctx, retrieval.Query{Collection: "real", Text: "verenpaineen kotimittaus", Mode: retrieval.ModeVector, K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rs := h.Results; len(rs) != 5 || h.Model != c.Model {
		t.Fatalf("vector search gave %d results with model %+v, want 5 with %+v", len(rs), h.Model, c.Model)
	}
	h, err = svc.Search(ctx, retrieval.Query{Collection: "real", Text: "kotimittaus", K: 5})
	if err != nil {
		t.Fatal(err)
	}
	rs := h.Results
	found := false
	for _, r := range rs {
		doc, err := svc.Document(ctx, "real", r.DocumentID)
		if err != nil {
			t.Fatal(err)
		}
		if got := string([]rune(doc.Text)[r.Start:r.End]); got != r.Text {
			t.Fatalf("citation [%d,%d) does not match", r.Start, r.End)
		}
		if strings.Contains(r.Text, "Kotimittaus on suositeltava") && r.Scores.TextRank == 1 {
			found = true
		}
	}
	if !found {
		t.Fatal("the full-text hit is missing from the hybrid results")
	}
	if _, err := svc.Search(ctx, retrieval.Query{Collection: "real", Text: "x", Model: "another"}); assist.KindOf(err) != assist.KindConflict {
		t.Fatalf("another model: %v", err)
	}
}
