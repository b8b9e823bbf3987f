package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/suite"
)

// Run statuses.
const (
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed" // stopped by an error that was not a case's own
)

// Model names a model release: the name callers use and the digest of
// the exact weights a host serves under it.
type Model struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// Run is one execution of a suite against one model.
type Run struct {
	ID          string       `json:"id"`
	Suite       string       `json:"suite"`
	SuiteHash   string       `json:"suite_hash"`
	Task        string       `json:"task"`
	Qualifies   assist.Task  `json:"qualifies,omitempty"`
	Model       Model        `json:"model"`
	DatasetHash string       `json:"dataset_hash"`
	CodeVersion string       `json:"code_version"`
	Cases       int          `json:"cases"`
	Status      string       `json:"status"`
	Definition  *suite.Suite `json:"definition"`
	Summary     *Summary     `json:"summary,omitempty"`
	CreatedBy   string       `json:"created_by,omitempty"`
	Created     time.Time    `json:"created"`
	Finished    *time.Time   `json:"finished,omitempty"`
}

// Result is one case's stored outcome.
type Result struct {
	RunID    string `json:"run_id"`
	CaseID   string `json:"case_id"`
	Category string `json:"category"`
	// Input, Expected and Output are display texts for reports (the
	// evaluation data is public or synthetic; never patient data).
	Input    string             `json:"input"`
	Expected string             `json:"expected"`
	Output   string             `json:"output"`
	Scores   map[string]float64 `json:"scores"`
	// Error is the error kind of a case whose execution failed; its
	// scores are then the worst value of each metric, and a resumed run
	// tries it again.
	Error        string        `json:"error,omitempty"`
	Host         string        `json:"host,omitempty"`
	ModelDigest  string        `json:"model_digest,omitempty"`
	Latency      time.Duration `json:"latency"` // time spent in the executor (model time)
	PromptTokens int           `json:"prompt_tokens"`
	OutputTokens int           `json:"output_tokens"`
	AuditSeq     int64         `json:"audit_seq,omitempty"`
}

// Outcome is what an executor returns for one case.
type Outcome struct {
	Input, Expected, Output string
	Scores                  map[string]float64
	Host                    string
	ModelDigest             string
	PromptTokens            int
	OutputTokens            int
	AuditSeq                int64
}

// Executor runs one case of a suite. Errors of kind invalid are the
// case's own (bad data) and fail the run; others (a model host failing)
// are recorded on the case.
type Executor interface {
	Execute(ctx context.Context, c evals.Case) (Outcome, error)
}

// Store keeps runs and per-case results. NotFound for an unknown run.
type Store interface {
	CreateRun(ctx context.Context, r Run) error
	GetRun(ctx context.Context, id string) (Run, error)
	// FindUnfinished returns the newest running run of the same suite
	// hash, dataset hash and model name, or NotFound.
	FindUnfinished(ctx context.Context, suiteHash, datasetHash, model string) (Run, error)
	Results(ctx context.Context, runID string) ([]Result, error)
	// SaveResult stores (or replaces) one case's result durably.
	SaveResult(ctx context.Context, r Result) error
	FinishRun(ctx context.Context, id, status string, s *Summary, at time.Time) error
	ListRuns(ctx context.Context, limit int) ([]Run, error)
}

// Progress is told after every finished case.
type Progress func(done, total int)

// Runner executes suites.
type Runner struct {
	Store    Store
	Progress Progress
	Now      func() time.Time // default time.Now
	// Concurrency overrides the suite's; 0 keeps it (default 2).
	Concurrency int
	// Yield, when set, is called before each case and may hold it back
	// (e.g. while people wait for answers from the same hosts: YieldTo);
	// release is called when the case is done.
	Yield func(ctx context.Context) (release func(), err error)
}

// YieldTo returns a Runner.Yield for batch work beside people's
// requests. activity reports whether higher-priority requests are in
// flight or queued and how long since the last one finished
// (models.Pool.Activity). A case waits until that work has been quiet for
// settle; within recent of it only one case runs at a time (so an
// arriving request meets at most one evaluation call), after that the
// runner's full concurrency applies. A case waits at most maxWait, so an
// evaluation under constant load still advances.
func YieldTo(activity func() (busy bool, quietFor time.Duration), settle, recent, maxWait time.Duration) func(ctx context.Context) (func(), error) {
	const poll = 2 * time.Millisecond
	var (
		mu       sync.Mutex
		inflight int
	)
	release := func() {
		mu.Lock()
		inflight--
		mu.Unlock()
	}
	return func(ctx context.Context) (func(), error) {
		deadline := time.Now().Add(maxWait)
		for {
			busy, quiet := activity()
			mu.Lock()
			if time.Now().After(deadline) || !busy && quiet >= settle && (quiet >= recent || inflight == 0) {
				inflight++
				mu.Unlock()
				return release, nil
			}
			mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(poll):
			}
		}
	}
}

// NewRunID returns a fresh run id: "run-" and 12 random hex digits.
func NewRunID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "run-" + hex.EncodeToString(b)
}

// CodeVersion is the VCS revision the program was built from ("devel"
// when unknown), with "+dirty" for a modified tree.
func CodeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// Start returns the run to execute: the unfinished run of the same suite,
// dataset and model when there is one (resume) and fresh is false, else a
// new one, stored. A resumed run whose model digest differs from the
// current one is refused: its results would mix two models.
func (r *Runner) Start(ctx context.Context, s *suite.Suite, cases []evals.Case, m Model, fresh bool, by string) (Run, bool, error) {
	const op = "runner.Start"
	if !fresh {
		prev, err := r.Store.FindUnfinished(ctx, s.Hash, s.DatasetHash, m.Name)
		switch {
		case err == nil:
			if prev.Model.Digest != m.Digest {
				return Run{}, false, assist.E(assist.KindConflict, op, fmt.Sprintf(
					"unfinished run %s used %s with digest %s, the hosts now serve %s: start a fresh run (--fresh)",
					prev.ID, m.Name, short(prev.Model.Digest), short(m.Digest)))
			}
			prev.Definition = s // same file (same hash), with its parsed template
			return prev, true, nil
		case assist.KindOf(err) != assist.KindNotFound:
			return Run{}, false, err
		}
	}
	run := Run{
		ID: NewRunID(), Suite: s.Name, SuiteHash: s.Hash, Task: s.Task, Qualifies: s.Qualifies, Model: m,
		DatasetHash: s.DatasetHash, CodeVersion: CodeVersion(), Cases: len(cases), Status: StatusRunning,
		Definition: s, CreatedBy: by, Created: r.now(),
	}
	if err := r.Store.CreateRun(ctx, run); err != nil {
		return Run{}, false, err
	}
	return run, false, nil
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// Execute runs every case of run that has no stored result (or a failed
// one), concurrently, storing each result as soon as it is known, then
// summarises the run and marks it done. Cancelling ctx stops it; the
// stored results stay and a later Execute continues from there.
func (r *Runner) Execute(ctx context.Context, run Run, cases []evals.Case, ex Executor) (Summary, error) {
	const op = "runner.Execute"
	prev, err := r.Store.Results(ctx, run.ID)
	if err != nil {
		return Summary{}, err
	}
	done := map[string]bool{}
	for _, res := range prev {
		if res.Error == "" {
			done[res.CaseID] = true
		}
	}
	var todo []evals.Case
	for _, c := range cases {
		if !done[c.ID] {
			todo = append(todo, c)
		}
	}
	total, finished := len(cases), len(cases)-len(todo)
	if r.Progress != nil {
		r.Progress(finished, total)
	}
	workers := r.Concurrency
	if workers <= 0 {
		workers = run.Definition.Concurrency
	}
	if workers <= 0 {
		workers = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	next := make(chan evals.Case)
	for range min(workers, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				release := func() {}
				if r.Yield != nil {
					rel, err := r.Yield(ctx)
					if err != nil {
						fail(err)
						continue
					}
					release = rel
				}
				res, err := r.one(ctx, run, c, ex)
				release()
				if err != nil {
					fail(err)
					continue
				}
				if err := r.Store.SaveResult(ctx, res); err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				finished++
				n := finished
				mu.Unlock()
				if r.Progress != nil {
					r.Progress(n, total)
				}
			}
		}()
	}
feed:
	for _, c := range todo {
		select {
		case next <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = assist.E(assist.KindCanceled, op, "the run was interrupted; run the same command again to resume", ctx.Err())
	}
	if firstErr != nil {
		if assist.KindOf(firstErr) == assist.KindInvalid {
			_ = r.Store.FinishRun(context.WithoutCancel(ctx), run.ID, StatusFailed, nil, r.now())
		}
		return Summary{}, firstErr
	}
	results, err := r.Store.Results(ctx, run.ID)
	if err != nil {
		return Summary{}, err
	}
	sum := Summarize(run.Definition, results)
	if err := r.Store.FinishRun(ctx, run.ID, StatusDone, &sum, r.now()); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

// one executes a case; a failure that is not the case's own is recorded
// on the result with the worst score of every metric.
func (r *Runner) one(ctx context.Context, run Run, c evals.Case, ex Executor) (Result, error) {
	start := time.Now()
	out, err := ex.Execute(ctx, c)
	lat := time.Since(start)
	res := Result{RunID: run.ID, CaseID: c.ID, Category: category(c), Latency: lat}
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		if k := assist.KindOf(err); k == assist.KindInvalid {
			return Result{}, fmt.Errorf("case %q: %w", c.ID, err)
		}
		res.Error = string(assist.KindOf(err))
		res.Scores = worstScores(run.Definition.Metrics)
		return res, nil
	}
	if run.Definition.NeedsModel() && run.Model.Digest != "" && out.ModelDigest != "" && out.ModelDigest != run.Model.Digest {
		// The host now serves other weights under the name: this case
		// does not belong to the run's model.
		res.Error = "model_changed"
		res.Scores = worstScores(run.Definition.Metrics)
		res.ModelDigest = out.ModelDigest
		return res, nil
	}
	for _, m := range run.Definition.Metrics {
		if _, ok := out.Scores[m]; !ok {
			return Result{}, assist.E(assist.KindInternal, "runner.Execute", fmt.Sprintf("case %q: the executor did not compute %s", c.ID, m))
		}
	}
	res.Input, res.Expected, res.Output = out.Input, out.Expected, out.Output
	res.Scores, res.Host, res.ModelDigest = out.Scores, out.Host, out.ModelDigest
	res.PromptTokens, res.OutputTokens, res.AuditSeq = out.PromptTokens, out.OutputTokens, out.AuditSeq
	return res, nil
}

// category is a case's first tag ("" → "all").
func category(c evals.Case) string {
	if len(c.Tags) > 0 {
		return c.Tags[0]
	}
	return "all"
}

// worstScores gives each metric its worst value: 0 for higher-is-better
// metrics, 100 for error rates (TER, WER, CER are capped there).
func worstScores(metrics []string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range metrics {
		if hb, _ := suite.HigherBetter(m); hb {
			out[m] = 0
		} else {
			out[m] = 100
		}
	}
	return out
}

// ErrThresholds is returned (wrapped) when a run's thresholds fail.
var ErrThresholds = errors.New("thresholds not met")

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
