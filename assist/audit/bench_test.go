package audit

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// clusters are the two PostgreSQL clusters the write benchmarks run on:
// the test cluster (fsync, synchronous_commit and full_page_writes off)
// and the durable one (all on), where "each caller waits for its durable
// record" holds. Both are reported, in one run.
var clusters = []struct {
	name string
	open func(testing.TB, ...pgdb.MigrationSet) (*pgxpool.Pool, string)
}{
	{"cluster=nosync", pgtest.NewPool},
	{"cluster=durable", pgtest.NewDurablePool},
}

// BenchmarkAppend64Writers measures durable appends per second with 64
// concurrent callers (group commit), and each caller's latency.
//
//	go test ./assist/audit -run '^$' -bench Append64Writers -benchtime 20000x
func BenchmarkAppend64Writers(b *testing.B) { benchAppend64(b, nil) }

// BenchmarkAppend64WritersContent adds encrypted content storage.
func BenchmarkAppend64WritersContent(b *testing.B) {
	benchAppend64(b, func(o *Options) { o.ContentKey, o.Retention = make([]byte, 32), time.Hour })
}

func benchAppend64(b *testing.B, mod func(*Options)) {
	for _, c := range clusters {
		b.Run(c.name, func(b *testing.B) {
			db, _ := c.open(b, Migrations)
			benchAppend64On(b, db, mod)
		})
	}
}

func benchAppend64On(b *testing.B, db *pgxpool.Pool, mod func(*Options)) {
	ctx := context.Background()
	l := openTestLog(b, db, mod)
	const writers = 64
	var next atomic.Int64
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t0 := time.Now()
				if _, err := l.Append(ctx, testEvent(int(i))); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkAppendSequential is the single-caller baseline: one commit per
// record, so the ratio to BenchmarkAppend64Writers is the group-commit gain.
func BenchmarkAppendSequential(b *testing.B) {
	for _, c := range clusters {
		b.Run(c.name, func(b *testing.B) {
			db, _ := c.open(b, Migrations)
			benchAppendSequentialOn(b, db)
		})
	}
}

func benchAppendSequentialOn(b *testing.B, db *pgxpool.Pool) {
	ctx := context.Background()
	l := openTestLog(b, db, nil)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(ctx, testEvent(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
}

const benchRecords = 100_000

// BenchmarkVerify measures verification speed in records per second:
// in memory (hashing, chain, tree, checkpoints), from an export directory
// (adds JSON decoding) and from the live database (adds the query).
//
//	go test ./assist/audit -run '^$' -bench Verify -benchtime 3x
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	recs := chain(benchRecords)
	cps := signAt(recs, benchRecords/4, benchRecords/2, benchRecords)
	opts := VerifyOptions{PublicKey: testPub()}
	report := func(b *testing.B, src Source) {
		b.Helper()
		var total time.Duration
		cpu0 := cpuTime()
		defer func() {
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(benchRecords*b.N), "cpu-ns/record")
		}()
		for i := 0; i < b.N; i++ {
			rep, err := Verify(ctx, src, opts)
			if err != nil {
				b.Fatal(err)
			}
			if !rep.OK() || rep.VerifiedSize != benchRecords {
				b.Fatalf("verification failed: %v", rep.Findings)
			}
			total += rep.Elapsed
		}
		b.ReportMetric(float64(benchRecords*b.N)/total.Seconds(), "records/s")
	}
	b.Run("memory", func(b *testing.B) { report(b, &memSource{recs: recs, cps: cps}) })

	db, _ := pgtest.NewPool(b, Migrations)
	loadRecords(b, db, recs, cps)
	b.Run("export", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "export")
		if _, err := Export(ctx, db, dir, testPub()); err != nil {
			b.Fatal(err)
		}
		src, err := OpenExport(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		report(b, src)
	})
	b.Run("database", func(b *testing.B) {
		var total time.Duration
		cpu0 := cpuTime()
		defer func() {
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(benchRecords*b.N), "cpu-ns/record")
		}()
		for i := 0; i < b.N; i++ {
			rep, err := VerifyDB(ctx, db, opts)
			if err != nil {
				b.Fatal(err)
			}
			if !rep.OK() {
				b.Fatalf("verification failed: %v", rep.Findings)
			}
			total += rep.Elapsed
		}
		b.ReportMetric(float64(benchRecords*b.N)/total.Seconds(), "records/s")
	})
}

// loadRecords bulk-copies prepared records (bypassing the writer, which is
// measured separately) so the read-side benchmarks start fast.
func loadRecords(b *testing.B, db *pgxpool.Pool, recs []Record, cps []Checkpoint) {
	b.Helper()
	ctx := context.Background()
	cols := []string{"seq", "recorded_at", "kind", "request_id", "actor_token_id", "actor_name", "actor_role", "actor_org",
		"task", "patient", "model", "model_digest", "host", "template_id", "template_version", "input_sha256", "output_sha256",
		"sources", "latency_us", "input_tokens", "output_tokens", "outcome", "error_kind", "relates_to", "attrs",
		"content_stored", "prev_hash", "leaf_hash"}
	rows := make([][]any, len(recs))
	for i := range recs {
		r := &recs[i]
		sources, attrs := r.Sources, r.Attrs
		if sources == nil {
			sources = []string{}
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		rows[i] = []any{r.Seq, r.Time, string(r.Kind), r.RequestID, r.ActorTokenID, r.ActorName, string(r.ActorRole), r.ActorOrg,
			string(r.Task), []byte(r.Patient), r.Model, r.ModelDigest, r.Host, r.TemplateID, r.TemplateVersion, []byte(r.InputHash),
			[]byte(r.OutputHash), sources, r.LatencyMicros, r.InputTokens, r.OutputTokens, string(r.Outcome), r.ErrorKind, r.RelatesTo,
			attrs, r.ContentStored, []byte(r.PrevHash), []byte(r.LeafHash)}
	}
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"audit_records"}, cols, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	for _, c := range cps {
		if err := insertCheckpoint(ctx, db, c); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is this process's user+system CPU time, a steadier measure than
// wall time on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
