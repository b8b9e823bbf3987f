// Package approve is the model-release workflow shared by the CLI
// (assist models) and the gateway's review API: a risk reviewer approves a
// model release for a task on the strength of a finished evaluation run
// and the SHA-256 of its report; approvals and withdrawals are audit
// records. Resolver serves each task with enforcement on only through its
// approved release (name and digest); Watcher notices hosts whose model
// changed behind an approved name.
package approve

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/evals/report"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/models/releases"
)

// Appender writes audit records (the audit log).
type Appender interface {
	Append(ctx context.Context, ev audit.Event) (audit.Receipt, error)
}

// KindReleaseMismatch is the audit kind of a host found serving another
// digest under an approved release's model name.
const KindReleaseMismatch audit.EventKind = "model.release_mismatch"

// Workflow approves and withdraws releases.
type Workflow struct {
	Releases *releases.Store
	Runs     runner.Store
	// Audit records every decision; nil refuses decisions (an approval
	// that is not recorded would not count).
	Audit Appender
	// Changed is called after a decision (e.g. to refresh a Resolver).
	Changed func()
}

// Request is an approval.
type Request struct {
	Task  assist.Task
	RunID string
	// ReportHash is the SHA-256 of the report the approver read; when
	// given it must equal the run's report as rendered now.
	ReportHash string
	Reason     string
	Purpose    string
	Actor      assist.Actor
}

// Report renders a finished run's report and returns it with its hash.
func (w *Workflow) Report(ctx context.Context, runID string) (runner.Run, []byte, error) {
	run, err := w.Runs.GetRun(ctx, runID)
	if err != nil {
		return runner.Run{}, nil, err
	}
	if run.Summary == nil {
		return runner.Run{}, nil, assist.E(assist.KindConflict, "approve.Report", "run "+runID+" is "+run.Status+", not finished")
	}
	res, err := w.Runs.Results(ctx, runID)
	if err != nil {
		return runner.Run{}, nil, err
	}
	html, err := report.Run(run, res)
	if err != nil {
		return runner.Run{}, nil, assist.E(assist.KindInternal, "approve.Report", err)
	}
	return run, html, nil
}

// Approve approves the release the run evaluated for req.Task. The run
// must be finished and passed, of a suite that qualifies models for the
// task; the release (model name + digest of the run) becomes the task's
// approved release, replacing the previous one.
func (w *Workflow) Approve(ctx context.Context, req Request) (releases.Release, error) {
	const op = "approve.Approve"
	if w.Audit == nil {
		return releases.Release{}, assist.E(assist.KindUnavailable, op, "approvals are audit records: the audit log is disabled")
	}
	run, html, err := w.Report(ctx, req.RunID)
	if err != nil {
		return releases.Release{}, err
	}
	switch {
	case run.Qualifies == "":
		return releases.Release{}, assist.E(assist.KindInvalid, op, fmt.Sprintf("suite %s qualifies no task: its runs cannot approve a release", run.Suite))
	case req.Task != "" && run.Qualifies != req.Task:
		return releases.Release{}, assist.E(assist.KindInvalid, op, fmt.Sprintf("run %s evaluated suite %s, which qualifies models for %s, not %s", run.ID, run.Suite, run.Qualifies, req.Task))
	case !run.Summary.Pass:
		return releases.Release{}, assist.E(assist.KindConflict, op, fmt.Sprintf("run %s did not pass its thresholds", run.ID))
	case len(run.Summary.Digests) > 1:
		return releases.Release{}, assist.E(assist.KindConflict, op, fmt.Sprintf("run %s saw more than one model digest", run.ID))
	}
	hash := report.Hash(html)
	if req.ReportHash != "" && req.ReportHash != hash {
		return releases.Release{}, assist.E(assist.KindConflict, op, "the report of run "+run.ID+" is not the one you read (its SHA-256 differs): open it again")
	}
	rel, err := w.Releases.Propose(ctx, run.Qualifies, run.Model.Name, run.Model.Digest, req.Purpose)
	if err != nil {
		return releases.Release{}, err
	}
	d := releases.Decision{By: req.Actor.TokenID, Reason: req.Reason, RunID: run.ID, ReportHash: hash}
	out, err := w.Releases.Approve(ctx, rel.ID, d, func(r releases.Release, prev *releases.Release) (int64, error) {
		attrs := decisionAttrs(r, "approved")
		if prev != nil {
			attrs["superseded_release"] = strconv.FormatInt(prev.ID, 10)
			attrs["superseded_digest"] = prev.Digest
		}
		return w.record(ctx, req.Actor, r, attrs)
	})
	if err == nil && w.Changed != nil {
		w.Changed()
	}
	return out, err
}

// Withdraw withdraws a release: its task stops being served by it.
func (w *Workflow) Withdraw(ctx context.Context, id int64, reason string, actor assist.Actor) (releases.Release, error) {
	if w.Audit == nil {
		return releases.Release{}, assist.E(assist.KindUnavailable, "approve.Withdraw", "withdrawals are audit records: the audit log is disabled")
	}
	out, err := w.Releases.Withdraw(ctx, id, releases.Decision{By: actor.TokenID, Reason: reason}, func(r releases.Release) (int64, error) {
		return w.record(ctx, actor, r, decisionAttrs(r, "withdrawn"))
	})
	if err == nil && w.Changed != nil {
		w.Changed()
	}
	return out, err
}

func decisionAttrs(r releases.Release, decision string) map[string]string {
	a := map[string]string{"decision": decision, "release": strconv.FormatInt(r.ID, 10)}
	if r.RunID != "" {
		a["eval_run"] = r.RunID
		a["report_sha256"] = r.ReportHash
	}
	if r.Purpose != "" {
		a["purpose"] = truncate(r.Purpose, 200)
	}
	return a
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// record appends the decision; the reason is the record's input (hashed,
// and kept encrypted when the log keeps content).
func (w *Workflow) record(ctx context.Context, actor assist.Actor, r releases.Release, attrs map[string]string) (int64, error) {
	rc, err := w.Audit.Append(ctx, audit.Event{
		Kind: audit.KindModelApproval, RequestID: assist.RequestIDFrom(ctx), Actor: actor, Task: r.Task,
		Model: r.Model, ModelDigest: r.Digest, Input: []byte(r.Reason), Outcome: audit.OutcomeOK, Attrs: attrs,
	})
	if err != nil {
		return 0, assist.E(assist.KindUnavailable, "approve.record", "the decision could not be recorded in the audit log; nothing was changed", err, 5)
	}
	return rc.Seq, nil
}

// Approved lists the approved releases (releases.Store satisfies it).
type Approved interface {
	Approved(ctx context.Context) (map[assist.Task]releases.Release, error)
}

// Resolver resolves a task's model: for a task with enforcement on, only
// its approved release (name and digest, so an answer from another
// digest is refused); for the others the fallback (configuration).
type Resolver struct {
	Releases Approved
	Enforce  map[assist.Task]bool
	Fallback record.Resolver
	// TTL is how long the approved releases are cached (default 2 s), so
	// a decision made by another process applies within it.
	TTL time.Duration
	Now func() time.Time

	mu      sync.Mutex
	cached  map[assist.Task]releases.Release
	fetched time.Time
}

var _ record.Resolver = (*Resolver)(nil)

// Refresh drops the cache (after a decision in this process).
func (r *Resolver) Refresh() {
	r.mu.Lock()
	r.cached = nil
	r.mu.Unlock()
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Current returns the approved releases, cached for TTL.
func (r *Resolver) Current(ctx context.Context) (map[assist.Task]releases.Release, error) {
	ttl := r.TTL
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	r.mu.Lock()
	if r.cached != nil && r.now().Sub(r.fetched) < ttl {
		c := r.cached
		r.mu.Unlock()
		return c, nil
	}
	r.mu.Unlock()
	m, err := r.Releases.Approved(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.cached, r.fetched = m, r.now()
	r.mu.Unlock()
	return m, nil
}

// Resolve implements record.Resolver. Errors: unavailable when an
// enforced task has no approved release (or the registry cannot be read).
func (r *Resolver) Resolve(ctx context.Context, task assist.Task) (record.Model, error) {
	if !r.Enforce[task] {
		if r.Fallback == nil {
			return record.Model{}, assist.E(assist.KindUnavailable, "approve.Resolve", "no model is configured for the task "+string(task))
		}
		return r.Fallback.Resolve(ctx, task)
	}
	m, err := r.Current(ctx)
	if err != nil {
		return record.Model{}, assist.E(assist.KindUnavailable, "approve.Resolve", "the model releases cannot be read", err, 5)
	}
	rel, ok := m[task]
	if !ok {
		return record.Model{}, assist.E(assist.KindUnavailable, "approve.Resolve",
			"no model release is approved for the task "+string(task)+": a risk reviewer approves one after an evaluation run")
	}
	return record.Model{Name: rel.Model, Digest: rel.Digest}, nil
}

// Watcher compares the hosts' digests with the approved releases.
type Watcher struct {
	Resolver *Resolver
	Hosts    func() []releases.HostModel
	Audit    Appender // nil: not recorded
	Log      *slog.Logger

	mu      sync.Mutex
	current []releases.Mismatch
	seen    map[releases.Mismatch]bool
}

// Check computes the mismatches now, records each new one in the audit
// log (once until it goes away) and returns them.
func (w *Watcher) Check(ctx context.Context) ([]releases.Mismatch, error) {
	approved, err := w.Resolver.Current(ctx)
	if err != nil {
		return w.Current(), err
	}
	mm := releases.Mismatches(approved, w.Hosts())
	w.mu.Lock()
	prevSeen := w.seen
	w.seen = map[releases.Mismatch]bool{}
	var fresh []releases.Mismatch
	for _, m := range mm {
		w.seen[m] = prevSeen[m]
		if !prevSeen[m] {
			fresh = append(fresh, m)
		}
	}
	w.current = mm
	w.mu.Unlock()
	for _, m := range fresh {
		if w.Log != nil {
			w.Log.Warn("a host serves another release of an approved model; it is not used for the task",
				"task", m.Task, "host", m.Host, "model", m.Model, "digest", m.Digest, "approved", m.Release)
		}
		if w.Audit == nil {
			w.markSeen(m)
			continue
		}
		_, err := w.Audit.Append(ctx, audit.Event{Kind: KindReleaseMismatch, Task: m.Task, Model: m.Model, ModelDigest: m.Digest,
			Host: m.Host, Outcome: audit.OutcomeRefused, Attrs: map[string]string{"approved_digest": m.Release}})
		if err == nil {
			w.markSeen(m) // else tried again at the next check
		}
	}
	return mm, nil
}

func (w *Watcher) markSeen(m releases.Mismatch) {
	w.mu.Lock()
	w.seen[m] = true
	w.mu.Unlock()
}

// Current returns the mismatches of the last check.
func (w *Watcher) Current() []releases.Mismatch {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]releases.Mismatch(nil), w.current...)
}

// Run checks every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := w.Check(ctx); err != nil && w.Log != nil && ctx.Err() == nil {
			w.Log.Warn("model release check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
