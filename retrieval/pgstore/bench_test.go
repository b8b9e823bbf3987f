package pgstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/pgvector/pgvector-go"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/retrieval/pgstore"
)

// The benchmark loads N synthetic chunks (default 100,000) of 768
// dimensions, builds the HNSW index, and measures recall@10 against exact
// search computed in Go, p50/p95 latency of vector and hybrid searches
// through Store.Search, and ingestion throughput. Run it with
//
//	go test -run '^$' -bench Retrieval -benchtime 200x ./retrieval/pgstore/
//
// (RETRIEVAL_BENCH_N=20000 for a quick run). Setup takes minutes on two
// cores: most of it is the index build.

const (
	benchDims     = 768
	benchClusters = 200
	benchQueries  = 200
	benchK        = 10
)

var benchIndex = retrieval.IndexParams{M: 16, EfConstruction: 64, EfSearch: 100}

type benchData struct {
	store   *pgstore.Store
	coll    retrieval.Collection
	ids     []int64     // chunk ids in load order
	vecs    [][]float32 // normalised vectors, same order
	queries [][]float32
	words   []string // query words for the full-text part
	exact   [][]int64
}

// clustered returns n unit vectors around `clusters` random centres, with
// noise giving a within-cluster cosine similarity near 0.7, which is how
// sentence embeddings of one topic look.
func clustered(rng *rand.Rand, centres [][]float32, n int) [][]float32 {
	out := make([][]float32, n)
	sigma := 0.65 / math.Sqrt(benchDims)
	for i := range out {
		c := centres[rng.IntN(len(centres))]
		v := make([]float32, benchDims)
		for d := range v {
			v[d] = c[d] + float32(rng.NormFloat64()*sigma)
		}
		out[i] = normalise(v)
	}
	return out
}

func normalise(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(s))
	for i := range v {
		v[i] /= n
	}
	return v
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// exactTopK is brute-force cosine search (vectors are unit length).
func exactTopK(vecs [][]float32, ids []int64, q []float32, k int) []int64 {
	type hit struct {
		id  int64
		sim float32
	}
	top := make([]hit, 0, k+1)
	for i, v := range vecs {
		s := dot(v, q)
		if len(top) == k && s <= top[k-1].sim {
			continue
		}
		j := len(top)
		top = append(top, hit{})
		for j > 0 && top[j-1].sim < s {
			top[j] = top[j-1]
			j--
		}
		top[j] = hit{ids[i], s}
		if len(top) > k {
			top = top[:k]
		}
	}
	out := make([]int64, len(top))
	for i, h := range top {
		out[i] = h.id
	}
	return out
}

var vocabulary = func() []string {
	syll := []string{"ka", "lo", "mi", "ne", "su", "ta", "vi", "ro", "pe", "hu", "ja", "ki"}
	var w []string
	for _, a := range syll {
		for _, b := range syll {
			for _, c := range syll {
				w = append(w, a+b+c)
			}
		}
	}
	return w // 1728 pseudo-words
}()

func syntheticText(rng *rand.Rand, n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		// Zipf-like: low indices are common.
		idx := int(float64(len(vocabulary)) * math.Pow(rng.Float64(), 3))
		sb.WriteString(vocabulary[idx])
		sb.WriteByte(' ')
	}
	return sb.String()
}

func setupBench(b *testing.B) *benchData {
	b.Helper()
	n := 100_000
	if s := os.Getenv("RETRIEVAL_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1000 {
			b.Fatalf("RETRIEVAL_BENCH_N=%q: want an integer ≥ 1000", s)
		}
	}
	ctx := context.Background()
	url := pgtest.NewDatabase(b, pgstore.Migrations)
	pool, err := pgdb.Open(ctx, url, 4)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	store := pgstore.New(pool)

	rng := rand.New(rand.NewPCG(1, 2))
	centres := make([][]float32, benchClusters)
	for i := range centres {
		c := make([]float32, benchDims)
		for d := range c {
			c[d] = float32(rng.NormFloat64() / math.Sqrt(benchDims))
		}
		centres[i] = c
	}
	d := &benchData{store: store}
	d.vecs = clustered(rng, centres, n)
	d.queries = clustered(rng, centres, benchQueries)
	for range benchQueries {
		d.words = append(d.words, vocabulary[50+rng.IntN(400)]+" "+vocabulary[50+rng.IntN(400)])
	}

	coll, err := store.CreateCollection(ctx, retrieval.Collection{Name: "bench",
		Model: retrieval.EmbeddingModel{Name: "synthetic", Digest: "sha256:synthetic", Dims: benchDims}, Index: benchIndex})
	if err != nil {
		b.Fatal(err)
	}
	d.coll = coll
	// Bulk load without the index, then build it once: far faster than
	// inserting 100k vectors into a live graph.
	if _, err := pool.Exec(ctx, `DROP INDEX retrieval.chunks_hnsw_`+strconv.FormatInt(coll.ID, 10)); err != nil {
		b.Fatal(err)
	}
	const perDoc = 100
	conn, err := pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	if err := pgxvec.RegisterTypes(ctx, conn.Conn()); err != nil {
		b.Fatal(err)
	}
	conn.Conn().TypeMap().RegisterType(&pgtype.Type{Name: "regconfig", OID: 3734, Codec: pgtype.Uint32Codec{}})
	var simple uint32
	if err := conn.QueryRow(ctx, `SELECT 'simple'::regconfig::oid`).Scan(&simple); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var docIDs []int64
	docRows := make([][]any, 0, n/perDoc+1)
	for i := 0; i*perDoc < n; i++ {
		docRows = append(docRows, []any{coll.ID, fmt.Sprintf("doc-%05d", i), "Synthetic", "text", "und", simple, "synthetic", "v1", "", 0})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"retrieval", "documents"},
		[]string{"collection_id", "source", "title", "format", "lang", "ts_config", "content_hash", "chunking", "body", "chars"},
		pgx.CopyFromRows(docRows)); err != nil {
		b.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT id FROM retrieval.documents WHERE collection_id = $1 ORDER BY source`, coll.ID)
	if err != nil {
		b.Fatal(err)
	}
	docIDs, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		b.Fatal(err)
	}
	texts := make([]string, n)
	for i := range texts {
		texts[i] = syntheticText(rng, 60)
	}
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"retrieval", "chunks"},
		[]string{"collection_id", "document_id", "ord", "heading_path", "heading_text", "start_char", "end_char", "content",
			"content_hash", "lang", "ts_config", "embedding"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return []any{coll.ID, docIDs[i/perDoc], i % perDoc, []string{}, "", 0, len(texts[i]), texts[i],
				strconv.Itoa(i), "und", simple, pgvector.NewVector(d.vecs[i])}, nil
		}))
	if err != nil || copied != int64(n) {
		b.Fatalf("copy: %d rows, %v", copied, err)
	}
	load := time.Since(start)
	b.Logf("bulk load (COPY): %d chunks in %s = %.0f chunks/s", n, load.Round(time.Millisecond), float64(n)/load.Seconds())

	start = time.Now()
	for _, s := range []string{
		`SET maintenance_work_mem = '1GB'`,
		`SET max_parallel_maintenance_workers = 1`,
		fmt.Sprintf(`CREATE INDEX chunks_hnsw_%d ON retrieval.chunks USING hnsw ((embedding::vector(%d)) vector_cosine_ops)
			WITH (m = %d, ef_construction = %d) WHERE collection_id = %d AND vector_dims(embedding) = %d`,
			coll.ID, benchDims, benchIndex.M, benchIndex.EfConstruction, coll.ID, benchDims),
		`ANALYZE retrieval.chunks`,
		`ANALYZE retrieval.documents`,
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("HNSW build (m=%d, ef_construction=%d, maintenance_work_mem=1GB, 1 parallel worker): %s",
		benchIndex.M, benchIndex.EfConstruction, time.Since(start).Round(time.Second))

	rows, err = conn.Query(ctx, `SELECT id FROM retrieval.chunks WHERE collection_id = $1 ORDER BY content_hash::int`, coll.ID)
	if err != nil {
		b.Fatal(err)
	}
	if d.ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		b.Fatal(err)
	}

	start = time.Now()
	d.exact = make([][]int64, len(d.queries))
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(d.queries); i += 2 {
				d.exact[i] = exactTopK(d.vecs, d.ids, d.queries[i], benchK)
			}
		}()
	}
	wg.Wait()
	b.Logf("exact top-%d for %d queries (Go brute force): %s", benchK, len(d.queries), time.Since(start).Round(time.Millisecond))

	var plan []string
	prows, err := conn.Query(ctx, fmt.Sprintf(`EXPLAIN SELECT c.id FROM retrieval.chunks c JOIN retrieval.documents d ON d.id = c.document_id
		WHERE c.collection_id = %d AND vector_dims(c.embedding) = %d
		ORDER BY c.embedding::vector(%d) <=> $1::vector(%d) LIMIT 10`, coll.ID, benchDims, benchDims, benchDims),
		pgvector.NewVector(d.queries[0]))
	if err == nil {
		plan, err = pgx.CollectRows(prows, pgx.RowTo[string])
	}
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("RETRIEVAL_BENCH_EXPLAIN") != "" {
		trows, err := conn.Query(ctx, fmt.Sprintf(`EXPLAIN (ANALYZE, BUFFERS) WITH q AS (SELECT cfg, websearch_to_tsquery(cfg, $1) AS tsq FROM (SELECT DISTINCT ts_config AS cfg FROM retrieval.documents WHERE collection_id = %d) cfgs)
			SELECT c.id, ts_rank_cd(c.tsv, q.tsq, 32) AS r
			FROM q JOIN retrieval.chunks c ON c.ts_config = q.cfg AND c.tsv @@ q.tsq
			JOIN retrieval.documents d ON d.id = c.document_id
			WHERE c.collection_id = %d ORDER BY r DESC, c.id LIMIT 40`, coll.ID, coll.ID), d.words[0])
		if err == nil {
			var tplan []string
			tplan, err = pgx.CollectRows(trows, pgx.RowTo[string])
			b.Logf("full-text plan for %q:\n%s", d.words[0], strings.Join(tplan, "\n"))
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if !strings.Contains(strings.Join(plan, "\n"), "chunks_hnsw_") {
		b.Fatalf("the vector query does not use the HNSW index:\n%s", strings.Join(plan, "\n"))
	}
	return d
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)]
}

func recallAt(got []retrieval.Result, want []int64) float64 {
	hit := 0
	for _, r := range got[:min(len(got), len(want))] {
		if slices.Contains(want, r.ChunkID) {
			hit++
		}
	}
	return float64(hit) / float64(len(want))
}

func BenchmarkRetrieval(b *testing.B) {
	d := setupBench(b)
	ctx := context.Background()
	for _, ef := range []int{40, 100, 200} {
		coll := d.coll
		coll.Index.EfSearch = ef
		b.Run(fmt.Sprintf("vector/ef_search=%d", ef), func(b *testing.B) {
			var lat []time.Duration
			var recall float64
			for i := 0; i < b.N; i++ {
				qi := i % len(d.queries)
				t0 := time.Now()
				rs, _, err := d.store.Search(ctx, coll, retrieval.StoreQuery{Vector: d.queries[qi], Limit: benchK})
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				recall += recallAt(rs, d.exact[qi])
			}
			b.ReportMetric(recall/float64(b.N), "recall@10")
			b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 0.95).Microseconds())/1000, "p95-ms")
		})
	}
	b.Run("hybrid/ef_search=100", func(b *testing.B) {
		var lat []time.Duration
		var recall float64
		for i := 0; i < b.N; i++ {
			qi := i % len(d.queries)
			t0 := time.Now()
			vres, tres, err := d.store.Search(ctx, d.coll, retrieval.StoreQuery{Vector: d.queries[qi], Text: d.words[qi], Limit: 40})
			if err != nil {
				b.Fatal(err)
			}
			ids := func(rs []retrieval.Result) []int64 {
				out := make([]int64, len(rs))
				for i, r := range rs {
					out[i] = r.ChunkID
				}
				return out
			}
			fused := retrieval.FuseRRF(0, ids(vres), ids(tres))
			lat = append(lat, time.Since(t0))
			_ = fused
			recall += recallAt(vres, d.exact[qi])
		}
		b.ReportMetric(recall/float64(b.N), "vector-recall@10")
		b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(percentile(lat, 0.95).Microseconds())/1000, "p95-ms")
	})
	b.Run("ingest/PutDocument", func(b *testing.B) {
		// The ordinary ingestion path: one transaction per document of 100
		// chunks, COPY into a table with a live HNSW index of 100k vectors.
		rng := rand.New(rand.NewPCG(3, 4))
		const perDoc = 100
		chunks := make([]retrieval.StoredChunk, perDoc)
		for i := range chunks {
			text := syntheticText(rng, 60)
			chunks[i] = retrieval.StoredChunk{
				Chunk:     retrieval.Chunk{Ord: i, HeadingPath: []string{"Synthetic"}, Start: i * 1000, End: i*1000 + 400, Text: text, Hash: strconv.Itoa(i)},
				Embedding: d.queries[rng.IntN(len(d.queries))],
			}
		}
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			doc := retrieval.Document{CollectionID: d.coll.ID, Source: fmt.Sprintf("ingest-%d", i), Title: "Synthetic",
				Format: retrieval.FormatText, Lang: "und", TSConfig: "simple", ContentHash: strconv.Itoa(i), Chunking: "v1", Text: "x"}
			if _, _, err := d.store.PutDocument(ctx, doc, chunks, d.coll.Model); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*perDoc)/time.Since(start).Seconds(), "chunks/s")
	})
}
