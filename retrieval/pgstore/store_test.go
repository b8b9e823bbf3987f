package pgstore_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/retrieval/pgstore"
	"github.com/soteai/gateway/retrieval/retrievaltest"
)

const model = "bow"

// concepts let the bag-of-words embedder relate words across languages,
// standing in for what a multilingual model learns.
var concepts = map[string]string{
	"verenpain": "bp", "blodtryck": "bp", "pressure": "bp", "hypertens": "bp", "hyperton": "bp",
	"diabet": "dm", "glukos": "dm", "blodsocker": "dm", "verensokeri": "dm", "insulin": "dm", "metformin": "dm",
	"kaatu": "fall", "fall": "fall",
	"tulk": "interp", "tolk": "interp", "interpret": "interp",
}

type env struct {
	svc   *retrieval.Service
	store *pgstore.Store
	emb   *retrievaltest.BagOfWords
	pool  *pgxpool.Pool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool, _ := pgtest.NewPool(t, pgstore.Migrations)
	emb := &retrievaltest.BagOfWords{Concepts: concepts, Dims: map[string]int{"bow-small": 32}}
	store := pgstore.New(pool)
	svc, err := retrieval.New(retrieval.Config{
		Store: store, Embedder: emb, DefaultModel: model,
		Chunking:  retrieval.ChunkOptions{MaxChars: 300, OverlapChars: 80},
		Parse:     retrieval.ParseOptions{PDF: retrieval.PDFToText{}},
		BatchSize: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, store: store, emb: emb, pool: pool}
}

func corpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ingestCorpus loads the multilingual test corpus into collection "guides".
func (e *env) ingestCorpus(t *testing.T) {
	t.Helper()
	docs := []struct {
		name string
		meta map[string]string
	}{
		{"verenpaine.md", map[string]string{"kind": "guideline"}},
		{"diabetes_sv.md", map[string]string{"kind": "guideline"}},
		{"falls_en.html", map[string]string{"kind": "guideline"}},
		{"tulkkaus_sanasto.txt", map[string]string{"kind": "glossary"}},
	}
	for _, d := range docs {
		res, err := e.svc.Ingest(context.Background(), retrieval.IngestRequest{
			Collection: "guides", Source: d.name, Data: corpus(t, d.name), Metadata: d.meta,
		})
		if err != nil {
			t.Fatalf("ingest %s: %v", d.name, err)
		}
		if res.Status != retrieval.StatusCreated || res.Chunks == 0 || res.Embedded != res.Chunks {
			t.Fatalf("ingest %s: %+v", d.name, res)
		}
	}
}

// search runs q and returns its results.
func (e *env) search(ctx context.Context, q retrieval.Query) ([]retrieval.Result, error) {
	h, err := e.svc.Search(ctx, q)
	return h.Results, err
}

// checkCitation asserts that a result's offsets point at its text in the
// stored document text.
func (e *env) checkCitation(t *testing.T, r retrieval.Result) {
	t.Helper()
	doc, err := e.svc.Document(context.Background(), "guides", r.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	runes := []rune(doc.Text)
	if r.Start < 0 || r.End > len(runes) || string(runes[r.Start:r.End]) != r.Text {
		t.Fatalf("result [%d,%d) does not cite its text in %s", r.Start, r.End, r.Source)
	}
}

func TestSearchCorpus(t *testing.T) {
	e := newEnv(t)
	e.ingestCorpus(t)
	ctx := context.Background()

	tests := []struct {
		name      string
		q         retrieval.Query
		source    string   // expected source of the top result
		heading   []string // expected heading path of the top result
		contains  string   // expected text in the top result
		none      bool     // expect no results
		onlyLangs []string // every result in these languages
	}{
		{name: "fulltext fi exact word", q: retrieval.Query{Text: "kotimittaus", Mode: retrieval.ModeFullText},
			source: "verenpaine.md", heading: []string{"Kohonnut verenpaine", "Mittaaminen"}, contains: "Kotimittaus on suositeltava"},
		{name: "fulltext fi stemmed inflection", q: retrieval.Query{Text: "hypotensiota kaatumisriskiä", Mode: retrieval.ModeFullText},
			source: "verenpaine.md", heading: []string{"Kohonnut verenpaine", "Hoitotavoitteet", "Iäkkäät potilaat"}, contains: "Ortostaattinen hypotensio"},
		{name: "fulltext sv stemmed", q: retrieval.Query{Text: "njurfunktionen", Mode: retrieval.ModeFullText},
			source: "diabetes_sv.md", heading: []string{"Typ 2-diabetes", "Behandling", "Metformin"}, contains: "eGFR"},
		{name: "fulltext en html", q: retrieval.Query{Text: "sedatives opioids", Mode: retrieval.ModeFullText},
			source: "falls_en.html", heading: []string{"Fall prevention in older adults", "Medication review"}, contains: "Sedatives"},
		{name: "fulltext en query finds nothing in Finnish", q: retrieval.Query{Text: "blood pressure targets", Mode: retrieval.ModeFullText, Languages: []string{"fi"}},
			none: true},
		{name: "vector crosses languages", q: retrieval.Query{Text: "blood pressure targets", Mode: retrieval.ModeVector, Languages: []string{"fi"}},
			source: "verenpaine.md", onlyLangs: []string{"fi"}},
		{name: "vector sv query finds Finnish glossary", q: retrieval.Query{Text: "tolkning", Mode: retrieval.ModeVector, Metadata: map[string]string{"kind": "glossary"}},
			source: "tulkkaus_sanasto.txt", contains: "Tulkkaus (ruotsiksi tolkning"},
		{name: "hybrid", q: retrieval.Query{Text: "metformin eGFR", Mode: retrieval.ModeHybrid},
			source: "diabetes_sv.md", heading: []string{"Typ 2-diabetes", "Behandling", "Metformin"}, contains: "Metformin är förstahandsläkemedel"},
		{name: "hybrid language filter", q: retrieval.Query{Text: "fall", Languages: []string{"en"}},
			source: "falls_en.html", onlyLangs: []string{"en"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Collection = "guides"
			rs, err := e.search(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if tt.none {
				if len(rs) != 0 {
					t.Fatalf("want no results, got %d (first %s)", len(rs), rs[0].Source)
				}
				return
			}
			if len(rs) == 0 {
				t.Fatal("no results")
			}
			top := rs[0]
			if top.Source != tt.source {
				t.Fatalf("top result from %s, want %s (text %q)", top.Source, tt.source, top.Text)
			}
			if tt.heading != nil && !slices.Equal(top.HeadingPath, tt.heading) {
				t.Errorf("heading path %q, want %q", top.HeadingPath, tt.heading)
			}
			if !strings.Contains(top.Text, tt.contains) {
				t.Errorf("top text %q lacks %q", top.Text, tt.contains)
			}
			for _, r := range rs {
				e.checkCitation(t, r)
				if tt.onlyLangs != nil && !slices.Contains(tt.onlyLangs, r.Lang) {
					t.Errorf("result in %s, want only %v", r.Lang, tt.onlyLangs)
				}
				if tt.q.Metadata != nil && r.Metadata["kind"] != tt.q.Metadata["kind"] {
					t.Errorf("result metadata %v, want %v", r.Metadata, tt.q.Metadata)
				}
			}
			switch tt.q.Mode {
			case retrieval.ModeVector:
				if top.Scores.VectorDistance == nil || top.Scores.VectorRank != 1 || top.Scores.TSRank != nil {
					t.Errorf("vector scores %+v", top.Scores)
				}
			case retrieval.ModeFullText:
				if top.Scores.TSRank == nil || *top.Scores.TSRank <= 0 || top.Scores.TextRank != 1 {
					t.Errorf("fulltext scores %+v", top.Scores)
				}
			default:
				if top.Scores.RRF <= 0 {
					t.Errorf("hybrid scores %+v", top.Scores)
				}
			}
		})
	}

	t.Run("hits name the collection's model and the sources", func(t *testing.T) {
		h, err := e.svc.Search(ctx, retrieval.Query{Collection: "guides", Text: "metformin", Mode: retrieval.ModeFullText, K: 2})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := e.svc.Collection(ctx, "guides")
		if h.Collection != "guides" || h.Mode != retrieval.ModeFullText || h.Model != c.Model || len(h.Results) == 0 {
			t.Fatalf("hits %+v, collection model %+v", h, c.Model)
		}
		ids := h.SourceIDs()
		for i, r := range h.Results {
			if ids[i] != "chunk:"+itoa(r.ChunkID) {
				t.Errorf("source %d is %q for chunk %d", i, ids[i], r.ChunkID)
			}
		}
		none, err := e.svc.Search(ctx, retrieval.Query{Collection: "guides", Text: "zzzqqq", Mode: retrieval.ModeFullText})
		if err != nil || none.Results == nil || len(none.Results) != 0 {
			t.Fatalf("no hits: %+v %v", none, err)
		}
	})

	t.Run("hybrid fuses both rankings", func(t *testing.T) {
		rs, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "metformin eGFR", K: 3})
		if err != nil {
			t.Fatal(err)
		}
		s := rs[0].Scores
		if s.VectorRank == 0 || s.TextRank == 0 || s.VectorDistance == nil || s.TSRank == nil {
			t.Fatalf("top hybrid result should be found by both rankings: %+v", s)
		}
		if want := 1/float64(60+s.VectorRank) + 1/float64(60+s.TextRank); s.RRF != want {
			t.Fatalf("RRF %v, want %v", s.RRF, want)
		}
		if len(rs) != 3 {
			t.Fatalf("K=3 gave %d results", len(rs))
		}
	})

	t.Run("queries are embedded at interactive priority, documents at batch", func(t *testing.T) {
		pris := e.emb.Priorities()
		if pris[0] != assist.PriorityBatch || pris[len(pris)-1] != assist.PriorityInteractive {
			t.Fatalf("priorities %v", pris)
		}
	})

	t.Run("list with counts", func(t *testing.T) {
		cs, err := e.svc.Collections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Name != "guides" || cs[0].Documents != 4 || cs[0].Chunks < 10 {
			t.Fatalf("collections %+v", cs)
		}
		if cs[0].Model.Name != model || cs[0].Model.Digest != e.emb.Digest(model) || cs[0].Model.Dims != 64 {
			t.Fatalf("model %+v", cs[0].Model)
		}
		docs, err := e.svc.Documents(ctx, "guides")
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		langs := map[string]string{}
		for _, d := range docs {
			total += d.Chunks
			langs[d.Source] = d.Lang + "/" + d.TSConfig
		}
		if total != cs[0].Chunks {
			t.Errorf("document chunk counts sum to %d, collection has %d", total, cs[0].Chunks)
		}
		want := map[string]string{"diabetes_sv.md": "sv/swedish", "falls_en.html": "en/english", "tulkkaus_sanasto.txt": "fi/finnish", "verenpaine.md": "fi/finnish"}
		for k, v := range want {
			if langs[k] != v {
				t.Errorf("%s: %s, want %s", k, langs[k], v)
			}
		}
	})
}

func TestSearchRefusesOtherEmbeddingModel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "guides", Source: "a.md", Data: corpus(t, "verenpaine.md")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "verenpaine", Model: "other-model"})
	if assist.KindOf(err) != assist.KindConflict || !strings.Contains(assist.MessageOf(err), "embedded with model bow") {
		t.Fatalf("search with another model: %v", err)
	}
	// The same name with a new digest (the model was updated on the host).
	e.emb.Version = "2"
	_, err = e.search(ctx, retrieval.Query{Collection: "guides", Text: "verenpaine"})
	if assist.KindOf(err) != assist.KindConflict || !strings.Contains(assist.MessageOf(err), "reembed") {
		t.Fatalf("search after the model changed: %v", err)
	}
	// Full-text search needs no embedding and still works.
	if _, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "verenpaine", Mode: retrieval.ModeFullText}); err != nil {
		t.Fatal(err)
	}
	// Ingesting with another model, or with the updated one, is refused too.
	_, err = e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "guides", Source: "b.md", Data: corpus(t, "diabetes_sv.md"), Model: "other-model"})
	if assist.KindOf(err) != assist.KindConflict {
		t.Fatalf("ingest with another model: %v", err)
	}
	_, err = e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "guides", Source: "b.md", Data: corpus(t, "diabetes_sv.md")})
	if assist.KindOf(err) != assist.KindConflict {
		t.Fatalf("ingest with the updated model: %v", err)
	}
	docs, _ := e.svc.Documents(ctx, "guides")
	if len(docs) != 1 {
		t.Fatalf("refused ingests stored documents: %d", len(docs))
	}
}

func TestReingest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data := corpus(t, "verenpaine.md")
	req := retrieval.IngestRequest{Collection: "guides", Source: "verenpaine.md", Data: data}
	first, err := e.svc.Ingest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.ContentHash) != 64 || first.Model.Name != model || first.Model.Digest == "" {
		t.Fatalf("first ingest: %+v", first)
	}
	_, inputs := e.emb.Stats()

	t.Run("unchanged is a no-op", func(t *testing.T) {
		again, err := e.svc.Ingest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if again.Status != retrieval.StatusUnchanged || again.DocumentID != first.DocumentID || again.Embedded != 0 ||
			again.ContentHash != first.ContentHash || again.Model != first.Model {
			t.Fatalf("re-ingest: %+v", again)
		}
		if _, n := e.emb.Stats(); n != inputs {
			t.Fatalf("re-ingest embedded %d inputs", n-inputs)
		}
	})

	t.Run("changed document replaces its chunks", func(t *testing.T) {
		changed := bytes.Replace(data, []byte("Kontrollikäynti sovitaan kolmen kuukauden päähän."),
			[]byte("Kontrollikäynti sovitaan kuuden viikon päähän, ja hoitaja soittaa potilaalle."), 1)
		req := req
		req.Data = changed
		res, err := e.svc.Ingest(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != retrieval.StatusUpdated || res.DocumentID != first.DocumentID || res.ContentHash == first.ContentHash {
			t.Fatalf("changed ingest: %+v", res)
		}
		if res.Embedded == 0 || res.Embedded >= res.Chunks {
			t.Fatalf("only changed passages should be embedded: %d of %d", res.Embedded, res.Chunks)
		}
		old, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "kuukauden", Mode: retrieval.ModeFullText})
		if err != nil {
			t.Fatal(err)
		}
		if len(old) != 0 {
			t.Fatalf("old text still found: %q", old[0].Text)
		}
		rs, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "hoitaja soittaa", Mode: retrieval.ModeFullText})
		if err != nil || len(rs) != 1 {
			t.Fatalf("new text: %v, %d results", err, len(rs))
		}
		doc, err := e.svc.Document(ctx, "guides", rs[0].DocumentID)
		if err != nil {
			t.Fatal(err)
		}
		if got := string([]rune(doc.Text)[rs[0].Start:rs[0].End]); got != rs[0].Text {
			t.Fatalf("offsets of the replaced chunk are wrong: %q", got)
		}
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM retrieval.chunks WHERE document_id = $1`, res.DocumentID).Scan(&n); err != nil || n != res.Chunks {
			t.Fatalf("stored chunks %d (%v), want %d", n, err, res.Chunks)
		}
	})
}

func TestBadInputStoresNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "guides", Source: "ok.md", Data: corpus(t, "verenpaine.md")}); err != nil {
		t.Fatal(err)
	}
	huge := bytes.Repeat([]byte("Verenpaine mitataan istuen. "), (50<<20)/28+1)
	tests := []struct {
		name    string
		source  string
		data    []byte
		kind    assist.Kind
		message string
	}{
		{"empty file", "empty.txt", nil, assist.KindInvalid, "empty"},
		{"binary garbage", "garbage.txt", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x03\x00>\x00"), assist.KindInvalid, "binary"},
		{"unknown encoding", "latin1.md", []byte("# Verenpaine\n\nP\xe4\xe4asiassa istuen."), assist.KindInvalid, "not valid UTF-8"},
		{"50 MB file", "huge.txt", huge, assist.KindTooLarge, "larger than the limit"},
		{"unsupported type", "notes.docx", []byte("PK\x03\x04"), assist.KindInvalid, "unsupported file type"},
		{"damaged PDF", "broken.pdf", []byte("%PDF-1.4\nnot really\n"), assist.KindInvalid, "PDF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "guides", Source: tt.source, Data: tt.data})
			if assist.KindOf(err) != tt.kind || !strings.Contains(assist.MessageOf(err), tt.message) {
				t.Fatalf("err %v (kind %s, message %q), want %s with %q", err, assist.KindOf(err), assist.MessageOf(err), tt.kind, tt.message)
			}
		})
	}
	t.Run("embedding failure midway", func(t *testing.T) {
		e.emb.Err = assist.E(assist.KindUnavailable, "test", "no host")
		defer func() { e.emb.Err = nil }()
		_, err := e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "guides", Source: "sv.md", Data: corpus(t, "diabetes_sv.md")})
		if assist.KindOf(err) != assist.KindUnavailable {
			t.Fatalf("err %v", err)
		}
	})
	docs, err := e.svc.Documents(ctx, "guides")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Source != "ok.md" {
		t.Fatalf("documents after bad input: %+v", docs)
	}
	var chunks int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM retrieval.chunks`).Scan(&chunks); err != nil || chunks != docs[0].Chunks {
		t.Fatalf("chunks %d (%v), want %d", chunks, err, docs[0].Chunks)
	}
	// A bad first document leaves no collection behind either.
	_, err = e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "fresh", Source: "empty.txt", Data: []byte("\n")})
	if assist.KindOf(err) != assist.KindInvalid {
		t.Fatal(err)
	}
	if _, err := e.svc.Collection(ctx, "fresh"); assist.KindOf(err) != assist.KindNotFound {
		t.Fatalf("collection after failed first ingest: %v", err)
	}
}

func TestPDFIngest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pdf := retrievaltest.PDF(
		[]string{"Hyponatremia in older adults", "Plasma sodium under 135 mmol/l is called hyponatremia. It is common in older people.",
			"Thiazides and SSRIs raise the risk, and so does drinking a lot of water."},
		[]string{"Check plasma sodium two weeks after starting a thiazide. If the value is low, stop the drug and repeat the test."})
	res, err := e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "guides", Source: "hyponatremia.pdf", Data: pdf})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lang != "en" {
		t.Errorf("lang %q", res.Lang)
	}
	rs, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "thiazide sodium", Mode: retrieval.ModeFullText})
	if err != nil || len(rs) == 0 {
		t.Fatalf("search: %v, %d results", err, len(rs))
	}
	if !strings.Contains(rs[0].Text, "thiazide") {
		t.Errorf("top text %q", rs[0].Text)
	}
}

func TestReembed(t *testing.T) {
	e := newEnv(t)
	e.ingestCorpus(t)
	ctx := context.Background()
	before, err := e.svc.Collection(ctx, "guides")
	if err != nil {
		t.Fatal(err)
	}
	var last int
	c, err := e.svc.Reembed(ctx, retrieval.ReembedRequest{Collection: "guides", Model: "bow-small",
		Index: retrieval.IndexParams{M: 8, EfConstruction: 32, EfSearch: 50}, Progress: func(done, total int) { last = done }})
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Name != "bow-small" || c.Model.Dims != 32 || c.Model.Digest != e.emb.Digest("bow-small") || c.Index.M != 8 {
		t.Fatalf("collection after reembed: %+v", c)
	}
	if c.Chunks != before.Chunks || last != before.Chunks {
		t.Fatalf("chunks %d, progress %d, want %d", c.Chunks, last, before.Chunks)
	}
	var dims []int
	rows, err := e.pool.Query(ctx, `SELECT DISTINCT vector_dims(embedding) FROM retrieval.chunks`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d int
		_ = rows.Scan(&d)
		dims = append(dims, d)
	}
	if !slices.Equal(dims, []int{32}) {
		t.Fatalf("stored dimensions %v", dims)
	}
	var def string
	if err := e.pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE indexname = $1`, "chunks_hnsw_"+itoa(c.ID)).Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "vector(32)") || !strings.Contains(def, "m='8'") {
		t.Fatalf("index after reembed: %s", def)
	}
	rs, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "metformin", Mode: retrieval.ModeVector})
	if err != nil || len(rs) == 0 || rs[0].Source != "diabetes_sv.md" {
		t.Fatalf("search after reembed: %v %+v", err, rs)
	}
	if _, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "metformin", Model: model}); assist.KindOf(err) != assist.KindConflict {
		t.Fatalf("old model after reembed: %v", err)
	}
	// A new document in the re-embedded collection uses the new model.
	if _, err := e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "guides", Source: "extra.txt", Data: []byte("Verenpaine ja verensokeri mitataan vuosittain.")}); err != nil {
		t.Fatal(err)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	e.ingestCorpus(t)
	ctx := context.Background()
	docs, _ := e.svc.Documents(ctx, "guides")
	var sv int64
	for _, d := range docs {
		if d.Source == "diabetes_sv.md" {
			sv = d.ID
		}
	}
	deleted, err := e.svc.DeleteDocument(ctx, "guides", sv)
	if err != nil {
		t.Fatal(err)
	}
	if deleted.ID != sv || deleted.Source != "diabetes_sv.md" || len(deleted.ContentHash) != 64 {
		t.Fatalf("deleted document %+v", deleted)
	}
	if _, err := e.svc.DeleteDocument(ctx, "guides", sv); assist.KindOf(err) != assist.KindNotFound {
		t.Fatalf("second delete: %v", err)
	}
	rs, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "metformin", Mode: retrieval.ModeFullText})
	if err != nil || len(rs) != 0 {
		t.Fatalf("deleted document still found: %v %d", err, len(rs))
	}
	c, err := e.svc.DeleteCollection(ctx, "guides")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "guides" || c.Model.Name != model || c.Documents != 3 || c.Chunks == 0 {
		t.Fatalf("deleted collection %+v", c)
	}
	if _, err := e.search(ctx, retrieval.Query{Collection: "guides", Text: "x"}); assist.KindOf(err) != assist.KindNotFound {
		t.Fatalf("search deleted collection: %v", err)
	}
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM retrieval.chunks) + (SELECT count(*) FROM pg_indexes WHERE indexname = $1)`,
		"chunks_hnsw_"+itoa(c.ID)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows or index left: %d %v", n, err)
	}
	if _, err := e.svc.DeleteCollection(ctx, "guides"); assist.KindOf(err) != assist.KindNotFound {
		t.Fatalf("second collection delete: %v", err)
	}
}

func TestSearchValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name string
		q    retrieval.Query
		kind assist.Kind
	}{
		{"unknown collection", retrieval.Query{Collection: "nope", Text: "x"}, assist.KindNotFound},
		{"bad collection name", retrieval.Query{Collection: "Bad Name", Text: "x"}, assist.KindInvalid},
		{"empty text", retrieval.Query{Collection: "guides", Text: "  "}, assist.KindInvalid},
		{"bad mode", retrieval.Query{Collection: "guides", Text: "x", Mode: "magic"}, assist.KindInvalid},
		{"k too large", retrieval.Query{Collection: "guides", Text: "x", K: 1000}, assist.KindInvalid},
		{"bad language", retrieval.Query{Collection: "guides", Text: "x", Languages: []string{"finnish!"}}, assist.KindInvalid},
		{"query too long", retrieval.Query{Collection: "guides", Text: strings.Repeat("a", 3000)}, assist.KindTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.search(ctx, tt.q); assist.KindOf(err) != tt.kind {
				t.Fatalf("err %v, want %s", err, tt.kind)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Finnish and Swedish compounds: the stemmers do not split them and a
// web-search query needs every word, so "verenpaine" never found
// "verenpainelääkitys". A query word now matches inside a compound, and
// the lexical half of hybrid search needs only some of a natural
// question's words.
func TestCompoundWords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, d := range []struct{ source, text string }{
		{"fi.md", "# Verenpainelääkitys\n\nVerenpainelääkitys aloitetaan, kun kotimittausten keskiarvo ylittää tavoitetason toistuvasti.\n\n" +
			"# Ruokavalio\n\nSuolan käyttöä vähennetään ja kasviksia lisätään.\n"},
		{"sv.md", "# Blodtrycksmedicin\n\nBlodtrycksmedicin sätts in när hemmätningarnas medelvärde upprepade gånger överstiger målet.\n\n" +
			"# Kost\n\nSaltintaget minskas och grönsaker ökas i kosten.\n"},
	} {
		if _, err := e.svc.Ingest(ctx, retrieval.IngestRequest{Collection: "compounds", Source: d.source, Data: []byte(d.text)}); err != nil {
			t.Fatalf("ingest %s: %v", d.source, err)
		}
	}
	for _, tc := range []struct {
		name     string
		q        retrieval.Query
		contains string
	}{
		{"fi word inside a compound", retrieval.Query{Text: "verenpaine", Mode: retrieval.ModeFullText}, "Verenpainelääkitys aloitetaan"},
		{"fi inflected word inside a compound", retrieval.Query{Text: "verenpaineen", Mode: retrieval.ModeFullText}, "Verenpainelääkitys aloitetaan"},
		{"fi natural question, hybrid", retrieval.Query{Text: "Milloin verenpaineen lääkitys aloitetaan?", Mode: retrieval.ModeHybrid, Languages: []string{"fi"}}, "Verenpainelääkitys aloitetaan"},
		{"sv word inside a compound", retrieval.Query{Text: "blodtryck", Mode: retrieval.ModeFullText}, "Blodtrycksmedicin sätts in"},
		{"sv natural question, hybrid", retrieval.Query{Text: "När ska man börja med medicin mot högt blodtryck?", Mode: retrieval.ModeHybrid, Languages: []string{"sv"}}, "Blodtrycksmedicin sätts in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Collection = "compounds"
			h, err := e.svc.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var lexicalTop *retrieval.Result
			for i := range h.Results {
				if h.Results[i].Scores.TextRank == 1 {
					lexicalTop = &h.Results[i]
				}
			}
			if lexicalTop == nil || !strings.Contains(lexicalTop.Text, tc.contains) {
				t.Fatalf("the lexical ranking's top result should hold %q; results %+v", tc.contains, h.Results)
			}
		})
	}
	t.Run("every word still required in full-text mode", func(t *testing.T) {
		h, err := e.svc.Search(ctx, retrieval.Query{Collection: "compounds", Text: "verenpaine blodtryck", Mode: retrieval.ModeFullText})
		if err != nil || len(h.Results) != 0 {
			t.Fatalf("no passage has both words: %v %+v", err, h.Results)
		}
	})
}
