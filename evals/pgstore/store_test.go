package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/evals/pgstore"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
	"github.com/soteai/gateway/risk"
)

// TestRiskSuiteStored runs the built-in risk suite through the runner
// into PostgreSQL, interrupts it, resumes it and checks what was stored.
func TestRiskSuiteStored(t *testing.T) {
	pool, _ := pgtest.NewPool(t, pgstore.Migrations)
	st := pgstore.New(pool)
	ctx := context.Background()
	s, err := suite.Open("risk")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.LoadCases("", "")
	if err != nil {
		t.Fatal(err)
	}
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	model := runner.Model{Name: "risk-engine", Digest: kb.Version()}
	r := &runner.Runner{Store: st, Concurrency: 4}
	run, resumed, err := r.Start(ctx, s, cases, model, false, "tester")
	if err != nil || resumed {
		t.Fatalf("start: %v %v", err, resumed)
	}
	// Interrupt after 10 cases.
	cctx, cancel := context.WithCancel(ctx)
	r.Progress = func(done, total int) {
		if done >= 10 {
			cancel()
		}
	}
	if _, err := r.Execute(cctx, run, cases, &runner.RiskExecutor{KB: kb}); assist.KindOf(err) != assist.KindCanceled {
		t.Fatalf("interrupted: %v", err)
	}
	partial, err := st.Results(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(partial) < 10 || len(partial) >= len(cases) {
		t.Fatalf("%d of %d results stored after the interruption", len(partial), len(cases))
	}
	stamp := map[string]runner.Result{}
	for _, p := range partial {
		stamp[p.CaseID] = p
	}
	r.Progress = nil
	again, resumed, err := r.Start(ctx, s, cases, model, false, "tester")
	if err != nil || !resumed || again.ID != run.ID {
		t.Fatalf("resume: %v %v %s", err, resumed, again.ID)
	}
	sum, err := r.Execute(ctx, again, cases, &runner.RiskExecutor{KB: kb})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Pass || sum.Cases != len(cases) || sum.Metrics["f1"].Mean < 0.95 {
		t.Errorf("summary %+v", sum)
	}
	all, _ := st.Results(ctx, run.ID)
	if len(all) != len(cases) {
		t.Fatalf("%d results, want %d", len(all), len(cases))
	}
	for _, res := range all {
		if p, ok := stamp[res.CaseID]; ok && p.Latency != res.Latency {
			t.Errorf("case %s was run again after the resume", res.CaseID)
		}
		if res.Output == "" && res.Expected != "" {
			t.Errorf("case %s stored without output", res.CaseID)
		}
	}
	got, err := st.GetRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != runner.StatusDone || got.Summary == nil || got.Finished == nil || got.Definition.Name != "risk" ||
		got.Summary.Metrics["f1"] != sum.Metrics["f1"] || got.CreatedBy != "tester" || got.Model != model {
		t.Errorf("stored run %+v", got)
	}
	list, err := st.ListRuns(ctx, 10)
	if err != nil || len(list) != 1 || list[0].ID != run.ID {
		t.Errorf("list %v %v", list, err)
	}
	if _, err := st.GetRun(ctx, "run-000000000000"); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("unknown run: %v", err)
	}
	if err := st.FinishRun(ctx, "run-000000000000", runner.StatusDone, nil, time.Now()); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("finish unknown run: %v", err)
	}
	// A result replaces an earlier failed attempt.
	res := all[0]
	res.Error, res.Output = "", "again"
	if err := st.SaveResult(ctx, res); err != nil {
		t.Fatal(err)
	}
	all2, _ := st.Results(ctx, run.ID)
	if all2[0].Output != "again" || len(all2) != len(all) {
		t.Errorf("upsert: %d results, first %+v", len(all2), all2[0])
	}
}
