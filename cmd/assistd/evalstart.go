package main

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/evalrun"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/releases"
)

// evalStarter runs evaluations inside the gateway: through its own host
// pool at batch priority, each case waiting while people's requests are
// in flight (runner.YieldTo), so the same hosts keep answering them first.
type evalStarter struct {
	base     context.Context // the server's lifetime
	deps     evalrun.Deps
	store    runner.Store
	releases *releases.Store
	pool     *models.Pool
	log      *slog.Logger

	mu      sync.Mutex
	running map[string]bool
}

// Start starts or resumes a run of a built-in suite and returns at once.
// Errors: not_found (not a built-in suite), conflict (that run is already
// executing), and those of evalrun.Prepare.
func (e *evalStarter) Start(ctx context.Context, name, model string, fresh bool, actor assist.Actor) (runner.Run, bool, error) {
	const op = "assistd.evalStart"
	if !slices.Contains(suite.Builtin(), name) {
		return runner.Run{}, false, assist.E(assist.KindNotFound, op, "no built-in suite "+name)
	}
	s, err := suite.Open(name)
	if err != nil {
		return runner.Run{}, false, err
	}
	p, err := evalrun.Prepare(ctx, e.deps, s, model)
	if err != nil {
		return runner.Run{}, false, err
	}
	yield := runner.YieldTo(func() (bool, time.Duration) { return e.pool.Activity(assist.PriorityBatch) },
		50*time.Millisecond, 2*time.Second, 10*time.Second)
	r := &runner.Runner{Store: e.store, Yield: yield}
	run, resumed, err := r.Start(ctx, s, p.Cases, p.Model, fresh, actor.TokenID)
	if err != nil {
		return runner.Run{}, false, err
	}
	e.mu.Lock()
	if e.running[run.ID] {
		e.mu.Unlock()
		return runner.Run{}, false, assist.E(assist.KindConflict, op, "run "+run.ID+" is already running")
	}
	e.running[run.ID] = true
	e.mu.Unlock()
	go func() {
		defer func() {
			e.mu.Lock()
			delete(e.running, run.ID)
			e.mu.Unlock()
		}()
		ctx := assist.WithActor(e.base, actor)
		sum, err := r.Execute(ctx, run, p.Cases, p.Executor)
		if err != nil {
			e.log.Warn("evaluation run stopped", "run", run.ID, "suite", s.Name, "err", err)
			return
		}
		e.log.Info("evaluation run finished", "run", run.ID, "suite", s.Name, "pass", sum.Pass)
		if s.Qualifies != "" && s.NeedsModel() && sum.Pass {
			if _, err := e.releases.Propose(ctx, s.Qualifies, p.Model.Name, p.Model.Digest, ""); err != nil {
				e.log.Warn("candidate release not recorded", "run", run.ID, "err", err)
			}
		}
	}()
	return run, resumed, nil
}
