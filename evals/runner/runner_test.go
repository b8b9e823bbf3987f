package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/suite"
)

// memStore is an in-memory Store for unit tests.
type memStore struct {
	mu      sync.Mutex
	runs    map[string]Run
	results map[string]map[string]Result
	saves   int
}

func newMemStore() *memStore {
	return &memStore{runs: map[string]Run{}, results: map[string]map[string]Result{}}
}

func (m *memStore) CreateRun(_ context.Context, r Run) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[r.ID] = r
	m.results[r.ID] = map[string]Result{}
	return nil
}

func (m *memStore) GetRun(_ context.Context, id string) (Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[id]
	if !ok {
		return Run{}, assist.Errorf(assist.KindNotFound, "no run %s", id)
	}
	return r, nil
}

func (m *memStore) FindUnfinished(_ context.Context, sh, dh, model string) (Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.runs {
		if r.Status == StatusRunning && r.SuiteHash == sh && r.DatasetHash == dh && r.Model.Name == model {
			return r, nil
		}
	}
	return Run{}, assist.Errorf(assist.KindNotFound, "none")
}

func (m *memStore) Results(_ context.Context, id string) ([]Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Result
	for _, k := range sortedKeys(m.results[id]) {
		out = append(out, m.results[id][k])
	}
	return out, nil
}

func (m *memStore) SaveResult(_ context.Context, r Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results[r.RunID][r.CaseID] = r
	m.saves++
	return nil
}

func (m *memStore) FinishRun(_ context.Context, id, status string, s *Summary, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[id]
	r.Status, r.Summary, r.Finished = status, s, &at
	m.runs[id] = r
	return nil
}

func (m *memStore) ListRuns(_ context.Context, limit int) ([]Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Run
	for _, r := range m.runs {
		out = append(out, r)
	}
	return out, nil
}

// fakeGen answers with a fixed text per case (the reference, or a broken
// one), counts calls per prompt, and can block after a number of calls.
type fakeGen struct {
	mu     sync.Mutex
	calls  map[string]int
	answer func(prompt string) (string, error)
	digest string
}

func (g *fakeGen) Generate(_ context.Context, req GenRequest) (GenResult, error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]int{}
	}
	g.calls[req.Prompt]++
	g.mu.Unlock()
	if req.Priority != assist.PriorityBatch {
		return GenResult{}, fmt.Errorf("priority %v, want batch", req.Priority)
	}
	text, err := g.answer(req.Prompt)
	return GenResult{Text: text, Model: Model{"m:latest", g.digest}, Host: "h1", PromptTokens: 10, OutputTokens: 5}, err
}

const suiteYAML = `name: t
version: 1
task: translation
qualifies: interpretation
dataset: {path: cases.jsonl}
prompt: {id: p, version: "1", template: "T {{.text}}"}
metrics: [chrf++, bleu, ter]
thresholds: [{metric: chrf++, min: 50}]
gates: [{metric: chrf++, max_drop: 2}]
concurrency: 3
`

// testSuite builds a suite of n translation cases whose references are
// "the answer number i".
func testSuite(t *testing.T, n int) (*suite.Suite, []evals.Case) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		in, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("q%d", i), "source_lang": "en", "target_lang": "fi"})
		exp, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("the answer number %d is here", i)})
		cat := []string{"a", "b"}[i%2]
		fmt.Fprintf(&b, `{"id":"c%02d","task":"translation","input":%s,"expected":%s,"tags":[%q]}`+"\n", i, in, exp, cat)
	}
	fsys := fstestMap{"s.yaml": suiteYAML, "cases.jsonl": b.String()}
	s, err := suite.Read(fsys.FS(), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.LoadCases("", "")
	if err != nil {
		t.Fatal(err)
	}
	return s, cases
}

func refFor(prompt string) string {
	var i int
	fmt.Sscanf(prompt, "T q%d", &i)
	return fmt.Sprintf("the answer number %d is here", i)
}

func TestRunResumeAndSummary(t *testing.T) {
	s, cases := testSuite(t, 12)
	st := newMemStore()
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	var mu sync.Mutex
	gen := &fakeGen{digest: "sha256:aaa", answer: func(p string) (string, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 5 {
			cancel() // the run is killed while cases are in flight
		}
		return refFor(p), nil
	}}
	r := &Runner{Store: st}
	run, resumed, err := r.Start(ctx, s, cases, Model{"m:latest", "sha256:aaa"}, false, "tester")
	if err != nil || resumed {
		t.Fatalf("start: %v resumed=%v", err, resumed)
	}
	_, err = r.Execute(ctx, run, cases, &TextExecutor{Suite: s, Gen: gen, Model: "m:latest"})
	if assist.KindOf(err) != assist.KindCanceled {
		t.Fatalf("interrupted run: err %v, want canceled", err)
	}
	stored, _ := st.Results(context.Background(), run.ID)
	if len(stored) == 0 || len(stored) >= len(cases) {
		t.Fatalf("%d results stored after the interruption, want some but not all", len(stored))
	}
	firstCalls := map[string]int{}
	for k, v := range gen.calls {
		firstCalls[k] = v
	}

	// Resume: the same suite, data and model find the unfinished run.
	var progress []int
	r.Progress = func(done, total int) { progress = append(progress, done) }
	again, resumed, err := r.Start(context.Background(), s, cases, Model{"m:latest", "sha256:aaa"}, false, "tester")
	if err != nil || !resumed || again.ID != run.ID {
		t.Fatalf("resume: %v resumed=%v id %s want %s", err, resumed, again.ID, run.ID)
	}
	sum, err := r.Execute(context.Background(), again, cases, &TextExecutor{Suite: s, Gen: gen, Model: "m:latest"})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range stored {
		p := "T q" + fmt.Sprint(atoi(strings.TrimPrefix(res.CaseID, "c")))
		if gen.calls[p] != firstCalls[p] {
			t.Errorf("case %s finished before the interruption was run again", res.CaseID)
		}
	}
	if progress[0] != len(stored) || progress[len(progress)-1] != len(cases) {
		t.Errorf("progress %v: want to start at %d and end at %d", progress, len(stored), len(cases))
	}
	if sum.Cases != 12 || sum.Errors != 0 || !sum.Pass {
		t.Errorf("summary %+v", sum)
	}
	if m := sum.Metrics["chrf++"]; m.Mean != 100 || m.Low != 100 {
		t.Errorf("perfect answers: chrF++ %+v", m)
	}
	if sum.Corpus["bleu"] < 99.99 || sum.Corpus["ter"] != 0 {
		t.Errorf("corpus %v", sum.Corpus)
	}
	if sum.CategoryCases["a"] != 6 || sum.CategoryCases["b"] != 6 {
		t.Errorf("categories %v", sum.CategoryCases)
	}
	if sum.TokensPerSec <= 0 {
		t.Errorf("tokens/s %v", sum.TokensPerSec)
	}
	final, _ := st.GetRun(context.Background(), run.ID)
	if final.Status != StatusDone || final.Summary == nil {
		t.Errorf("run not finished: %+v", final.Status)
	}
	// A finished run is not resumed: the next start is a fresh run.
	next, resumed, err := r.Start(context.Background(), s, cases, Model{"m:latest", "sha256:aaa"}, false, "tester")
	if err != nil || resumed || next.ID == run.ID {
		t.Errorf("after completion: %v resumed=%v", err, resumed)
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func TestResumeRefusesAnotherDigest(t *testing.T) {
	s, cases := testSuite(t, 2)
	st := newMemStore()
	r := &Runner{Store: st}
	if _, _, err := r.Start(context.Background(), s, cases, Model{"m:latest", "sha256:aaa"}, false, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err := r.Start(context.Background(), s, cases, Model{"m:latest", "sha256:bbb"}, false, "")
	if assist.KindOf(err) != assist.KindConflict || !strings.Contains(err.Error(), "--fresh") {
		t.Fatalf("digest change on resume: %v", err)
	}
	if _, _, err := r.Start(context.Background(), s, cases, Model{"m:latest", "sha256:bbb"}, true, ""); err != nil {
		t.Fatalf("--fresh: %v", err)
	}
}

func TestFailuresAndThresholds(t *testing.T) {
	s, cases := testSuite(t, 6)
	st := newMemStore()
	gen := &fakeGen{digest: "sha256:aaa", answer: func(p string) (string, error) {
		if p == "T q3" {
			return "", assist.E(assist.KindUnavailable, "test", "no host")
		}
		return "something else entirely", nil
	}}
	r := &Runner{Store: st}
	run, _, _ := r.Start(context.Background(), s, cases, Model{"m:latest", "sha256:aaa"}, false, "")
	sum, err := r.Execute(context.Background(), run, cases, &TextExecutor{Suite: s, Gen: gen, Model: "m:latest"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Errors != 1 || sum.Pass {
		t.Errorf("summary: errors %d pass %v, want 1 error and a failure", sum.Errors, sum.Pass)
	}
	var failed []string
	for _, th := range sum.Thresholds {
		if !th.Pass {
			failed = append(failed, th.Metric)
		}
	}
	if !slices.Equal(failed, []string{"chrf++", "errors"}) {
		t.Errorf("failed thresholds %v, want chrf++ and errors", failed)
	}
	res, _ := st.Results(context.Background(), run.ID)
	for _, x := range res {
		if x.CaseID == "c03" && (x.Error != "unavailable" || x.Scores["ter"] != 100 || x.Scores["chrf++"] != 0) {
			t.Errorf("failed case stored as %+v", x)
		}
	}
	// Bad data fails the run at once.
	bad := cases[0]
	bad.Expected = json.RawMessage(`{"other": 1}`)
	run2, _, _ := r.Start(context.Background(), s, cases, Model{"m:latest", "sha256:aaa"}, true, "")
	_, err = r.Execute(context.Background(), run2, []evals.Case{bad}, &TextExecutor{Suite: s, Gen: gen, Model: "m:latest"})
	if assist.KindOf(err) != assist.KindInvalid {
		t.Errorf("bad case: %v", err)
	}
	if got, _ := st.GetRun(context.Background(), run2.ID); got.Status != StatusFailed {
		t.Errorf("run with bad data: status %s", got.Status)
	}
}

func TestModelChangedMidRun(t *testing.T) {
	s, cases := testSuite(t, 4)
	st := newMemStore()
	gen := &fakeGen{digest: "sha256:new", answer: func(p string) (string, error) { return refFor(p), nil }}
	r := &Runner{Store: st}
	run, _, _ := r.Start(context.Background(), s, cases, Model{"m:latest", "sha256:old"}, false, "")
	sum, err := r.Execute(context.Background(), run, cases, &TextExecutor{Suite: s, Gen: gen, Model: "m:latest"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Errors != 4 || sum.Pass {
		t.Errorf("answers from another digest counted: %+v", sum)
	}
}

func TestCompareFlagsRegression(t *testing.T) {
	s, cases := testSuite(t, 20)
	st := newMemStore()
	r := &Runner{Store: st}
	good := &fakeGen{digest: "sha256:aaa", answer: func(p string) (string, error) { return refFor(p), nil }}
	bad := &fakeGen{digest: "sha256:bbb", answer: func(p string) (string, error) {
		// Half the answers lose their last words: a planted regression.
		if atoi(strings.TrimPrefix(p, "T q"))%2 == 0 {
			return strings.TrimSuffix(refFor(p), " is here"), nil
		}
		return refFor(p), nil
	}}
	exec := func(m Model, g Generator) (Run, []Result) {
		run, _, err := r.Start(context.Background(), s, cases, m, true, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Execute(context.Background(), run, cases, &TextExecutor{Suite: s, Gen: g, Model: m.Name}); err != nil {
			t.Fatal(err)
		}
		run, _ = st.GetRun(context.Background(), run.ID)
		res, _ := st.Results(context.Background(), run.ID)
		return run, res
	}
	a, ar := exec(Model{"m:latest", "sha256:aaa"}, good)
	a2, a2r := exec(Model{"m:latest", "sha256:aaa"}, good)
	b, br := exec(Model{"m:latest", "sha256:bbb"}, bad)
	cmp, err := Compare(a, b, ar, br)
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Pass || cmp.Gates[0].Pass || cmp.Gates[0].P >= SignificanceLevel {
		t.Errorf("planted regression not flagged: %+v", cmp.Gates)
	}
	if len(cmp.Worse) != 10 || cmp.Worse[0].Candidate >= cmp.Worse[0].Baseline {
		t.Errorf("worst cases %+v", cmp.Worse)
	}
	same, err := Compare(a, a2, ar, a2r)
	if err != nil {
		t.Fatal(err)
	}
	if !same.Pass {
		t.Errorf("identical runs flagged: %+v", same.Gates)
	}
	// Runs of another dataset cannot be compared.
	other := b
	other.DatasetHash = "x"
	if _, err := Compare(a, other, ar, br); assist.KindOf(err) != assist.KindConflict {
		t.Errorf("different datasets: %v", err)
	}
}

func TestRankScores(t *testing.T) {
	for _, tc := range []struct {
		ranked, rel []string
		k           int
		recall, mrr float64
	}{
		{[]string{"a", "b", "c"}, []string{"b"}, 5, 1, 0.5},
		{[]string{"a", "b", "c"}, []string{"c", "x"}, 5, 0.5, 1.0 / 3},
		{[]string{"a", "b", "c"}, []string{"c"}, 2, 0, 0},
		{nil, []string{"c"}, 2, 0, 0},
		{[]string{"c", "c2"}, []string{"c", "c2"}, 2, 1, 1},
	} {
		r, m := RankScores(tc.ranked, tc.rel, tc.k)
		if r != tc.recall || m != tc.mrr {
			t.Errorf("RankScores(%v, %v, %d) = %v, %v; want %v, %v", tc.ranked, tc.rel, tc.k, r, m, tc.recall, tc.mrr)
		}
	}
}

func TestYieldTo(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	state := func() (bool, time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 3 {
			return true, 0 // people are waiting for answers
		}
		return false, 100 * time.Millisecond // quiet for a while, but recently busy
	}
	y := YieldTo(state, 10*time.Millisecond, time.Hour, time.Hour)
	rel, err := y(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if calls < 4 {
		t.Errorf("went ahead after %d checks while busy", calls)
	}
	// Within the recent window only one case runs at a time.
	second := make(chan struct{})
	go func() {
		r2, _ := y(context.Background())
		close(second)
		r2()
	}()
	select {
	case <-second:
		t.Fatal("a second case started while one runs after recent activity")
	case <-time.After(50 * time.Millisecond):
	}
	rel()
	<-second
	// Under constant load a case still goes ahead after maxWait.
	busyForever := YieldTo(func() (bool, time.Duration) { return true, 0 }, time.Second, time.Hour, 5*time.Millisecond)
	if r, err := busyForever(context.Background()); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := YieldTo(func() (bool, time.Duration) { return true, 0 }, time.Second, time.Hour, time.Hour)(ctx); err == nil {
		t.Error("a canceled wait went ahead")
	}
}
