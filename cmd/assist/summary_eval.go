package main

import (
	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/assist/summary"
	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/assist/summary/summaryeval"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
	"github.com/soteai/gateway/risk"
)

// visitNoteExecutor runs a visit_note suite through the summary task
// against model m (each call audited, at batch priority), with the
// grounding checker; the suite's options num_ctx and num_predict set the
// context the transcript must fit (longer ones are map-reduced).
func visitNoteExecutor(s *suite.Suite, rec *record.Recorder, m runner.Model) (runner.Executor, error) {
	kb, err := risk.DefaultKB()
	if err != nil {
		return nil, err
	}
	o := summary.Options{Priority: assist.PriorityBatch, Model: &record.Model{Name: m.Name, Digest: m.Digest}}
	if n, ok := s.Options["num_ctx"].(uint64); ok {
		o.NumCtx = int(n)
	}
	if n, ok := s.Options["num_predict"].(uint64); ok {
		o.NumPredict = int(n)
	}
	svc := &summary.Service{Models: rec, Templates: summary.DefaultTemplates(), Grounder: summary.CheckerGrounder{Checker: grounding.New(kb)}, Options: o}
	return &summaryeval.Executor{Suite: s, Service: svc}, nil
}
