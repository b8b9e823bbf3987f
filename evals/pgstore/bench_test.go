package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/pgstore"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/ollama"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// benchSuite is a translation suite of n cases over the shipped NTREX
// excerpt, repeated.
func benchSuite(b *testing.B, n int, numPredict int) (*suite.Suite, []evals.Case) {
	b.Helper()
	s, err := suite.Open("translation-news")
	if err != nil {
		b.Fatal(err)
	}
	base, err := s.LoadCases("", "")
	if err != nil {
		b.Fatal(err)
	}
	s.Options = map[string]any{"temperature": 0, "seed": 1, "num_predict": numPredict}
	cases := make([]evals.Case, n)
	for i := range cases {
		c := base[i%len(base)]
		c.ID = fmt.Sprintf("%s-%d", c.ID, i)
		cases[i] = c
	}
	s.DatasetHash = suite.HashCases(cases)
	return s, cases
}

// instantGen answers at once with the reference's first words: no model
// time, so everything measured is the runner's own work.
type instantGen struct{}

func (instantGen) Generate(_ context.Context, req runner.GenRequest) (runner.GenResult, error) {
	words := strings.Fields(req.Prompt)
	return runner.GenResult{Text: strings.Join(words[max(0, len(words)-6):], " "), Model: runner.Model{Name: "m", Digest: "d"},
		Host: "h", PromptTokens: 20, OutputTokens: 6}, nil
}

// BenchmarkRunnerOverhead measures what the runner adds per case beyond
// model time: rendering the prompt, scoring (chrF++, BLEU, TER), the
// durable result row in PostgreSQL and the bookkeeping (target < 2 ms).
// The model answers instantly, so ns/op is the overhead itself.
// It runs on the test cluster (fsync off) and on the durable cluster
// (fsync, synchronous_commit and full_page_writes on), where each result
// row waits for its commit to reach the disk.
func BenchmarkRunnerOverhead(b *testing.B) {
	for _, cl := range []struct {
		name string
		open func(testing.TB, ...pgdb.MigrationSet) (*pgxpool.Pool, string)
	}{{"cluster=test", pgtest.NewPool}, {"cluster=durable", pgtest.NewDurablePool}} {
		b.Run(cl.name, func(b *testing.B) {
			pool, _ := cl.open(b, pgstore.Migrations)
			runnerOverhead(b, pool)
		})
	}
}

func runnerOverhead(b *testing.B, pool *pgxpool.Pool) {
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			s, cases := benchSuite(b, b.N, 8)
			r := &runner.Runner{Store: pgstore.New(pool), Concurrency: conc}
			run, _, err := r.Start(context.Background(), s, cases, runner.Model{Name: "m", Digest: "d"}, true, "bench")
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			if _, err := r.Execute(context.Background(), run, cases, &runner.TextExecutor{Suite: s, Gen: instantGen{}, Model: "m"}); err != nil {
				b.Fatal(err)
			}
			per := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(per.Microseconds())/1000, "overhead_ms/case")
		})
	}
}

// poolGen calls the model through a host pool at the request's priority.
type poolGen struct{ svc *ollama.Service }

func (g poolGen) Generate(ctx context.Context, req runner.GenRequest) (runner.GenResult, error) {
	out, err := g.svc.Generate(ctx, ollama.GenerateParams{Model: req.Model, Prompt: req.Prompt, Priority: req.Priority, Options: req.Options})
	if err != nil {
		return runner.GenResult{}, err
	}
	return runner.GenResult{Text: out.Text, Model: runner.Model{Name: out.Model.Name, Digest: out.Model.Digest}, Host: out.Host,
		PromptTokens: out.PromptTokens, OutputTokens: out.OutputTokens}, nil
}

// BenchmarkEvalBesideInteractive runs interactive requests on a real
// Ollama host alone and then while an evaluation runs at batch priority
// through the same host pool, in alternating rounds, and reports the
// interactive p95 of both and their ratio (target: < 1.10).
func BenchmarkEvalBesideInteractive(b *testing.B) {
	url, model := ollamatest.URL(b), ollamatest.Model(b)
	oc := ollama.NewClient(ollama.HTTPOptions{})
	pool := models.NewPool([]models.HostConfig{{Name: "h", URL: url, MaxConcurrent: 4}}, oc, models.Options{}, nil)
	pool.CheckNow(context.Background())
	svc := &ollama.Service{Pool: pool, Client: oc}
	db, _ := pgtest.NewPool(b, pgstore.Migrations)
	st := pgstore.New(db)
	const perRound = 40
	interactive := func() []time.Duration {
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		for c := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perRound / 2 {
					t0 := time.Now()
					_, err := svc.Generate(context.Background(), ollama.GenerateParams{Model: model, Priority: assist.PriorityInteractive,
						Prompt: fmt.Sprintf("Question %d from clinician %d", i, c), Options: map[string]any{"num_predict": 8, "temperature": 0}})
					if err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					lat = append(lat, time.Since(t0))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return lat
	}
	p95 := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[(len(d)*95+99)/100-1]
	}
	for _, yield := range []bool{false, true} {
		for _, conc := range []int{1, 2} {
			b.Run(fmt.Sprintf("yield=%v/eval_concurrency=%d", yield, conc), func(b *testing.B) {
				var y func(context.Context) (func(), error)
				if yield {
					y = runner.YieldTo(func() (bool, time.Duration) { return pool.Activity(assist.PriorityBatch) }, 50*time.Millisecond, 2*time.Second, 5*time.Second)
				}
				besideEval(b, st, svc, model, conc, y, interactive, p95)
			})
		}
	}
}

func besideEval(b *testing.B, st *pgstore.Store, svc *ollama.Service, model string, conc int, yield func(context.Context) (func(), error), interactive func() []time.Duration,
	p95 func([]time.Duration) time.Duration) {
	var alone, beside []time.Duration
	var evalCases atomic.Int64
	b.ResetTimer()
	for range b.N {
		alone = append(alone, interactive()...)
		s, cases := benchSuite(b, 10_000, 8)
		r := &runner.Runner{Store: st, Concurrency: conc, Yield: yield, Progress: func(done, _ int) { evalCases.Store(int64(done)) }}
		run, _, err := r.Start(context.Background(), s, cases, runner.Model{Name: model}, true, "bench")
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = r.Execute(ctx, run, cases, &runner.TextExecutor{Suite: s, Gen: poolGen{svc}, Model: model})
		}()
		time.Sleep(200 * time.Millisecond) // the eval is under way
		beside = append(beside, interactive()...)
		cancel()
		<-done
	}
	b.StopTimer()
	pa, pb := p95(alone), p95(beside)
	b.ReportMetric(float64(pa.Microseconds())/1000, "p95_alone_ms")
	b.ReportMetric(float64(pb.Microseconds())/1000, "p95_beside_eval_ms")
	b.ReportMetric(float64(pb)/float64(pa), "p95_ratio")
	b.ReportMetric(float64(evalCases.Load()), "eval_cases_last_round")
}
