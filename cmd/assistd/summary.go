package main

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/assist/summary"
	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/assist/summary/summaryfhir"
	"github.com/soteai/gateway/cmd/assistd/internal/httpapi"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/risk"
)

// newSummaryDeps wires visit notes and background summaries: templates
// (built-in plus the county's directory), the audited model calls, the
// draft store and the medication risk engine.
func newSummaryDeps(cfg *config.Config, db *pgxpool.Pool, rec *record.Recorder, kb *risk.KB) (*httpapi.SummaryDeps, error) {
	ts, err := summary.LoadTemplates(cfg.Summary.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("config: summary.templates_dir: %w", err)
	}
	store := summary.NewStore(db)
	svc := &summary.Service{Models: rec, Templates: ts, Store: store, Grounder: summary.CheckerGrounder{Checker: grounding.New(kb)}, Options: summary.Options{
		NumCtx: cfg.Summary.NumCtx, NumPredict: cfg.Summary.NumPredict, MaxParallel: cfg.Summary.MaxParallel,
		Priority: assist.PriorityInteractive,
		Limits:   summary.Limits{MaxTurns: cfg.Summary.MaxTurns, MaxTurnChars: cfg.Summary.MaxTurnChars, MaxChars: cfg.Summary.MaxChars},
	}}
	return &httpapi.SummaryDeps{Service: svc, Store: store, Background: &summary.Background{Service: svc, KB: kb},
		FHIR: summaryfhir.Bundle}, nil
}
