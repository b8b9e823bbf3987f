package main

import (
	"context"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/models/ollama"
	"github.com/soteai/gateway/risk"
)

// chatGenerator writes the optional AI summaries of medication risk flags
// with the configured chat model, at interactive priority. Each summary is
// an AI output of its own: it is recorded (model digest, host, prompt and
// text hashes, the caller from ctx) before it is returned, and withheld
// when the record cannot be written.
type chatGenerator struct {
	svc   *ollama.Service
	model string
	audit *audit.Log // nil when auditing is disabled
}

var _ risk.Generator = chatGenerator{}

func (g chatGenerator) Generate(ctx context.Context, prompt string) (string, error) {
	start := time.Now()
	out, err := g.svc.Generate(ctx, g.model, "", prompt, assist.PriorityInteractive, nil)
	if err != nil || g.audit == nil {
		return out.Text, err
	}
	actor, _ := assist.ActorFrom(ctx)
	_, err = g.audit.Append(ctx, audit.Event{
		Kind:            audit.KindAIOutput,
		RequestID:       assist.RequestIDFrom(ctx),
		Actor:           actor,
		Task:            assist.TaskRiskSummary,
		TemplateID:      risk.SummaryTemplateID,
		TemplateVersion: risk.SummaryTemplateVersion,
		Model:           out.Model.Name,
		ModelDigest:     out.Model.Digest,
		Host:            out.Host,
		Input:           []byte(prompt),
		Output:          []byte(out.Text),
		Latency:         time.Since(start),
		InputTokens:     out.PromptTokens,
		OutputTokens:    out.OutputTokens,
		Outcome:         audit.OutcomeOK,
	})
	if err != nil {
		return "", err
	}
	return out.Text, nil
}
