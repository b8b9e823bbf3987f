// Package summaryeval runs the visit_note evaluation suites (evals/suite)
// through the summary task itself: each case's dialogue becomes turns,
// the draft is written with the task's own prompts, citations and
// grounding checker against the model under evaluation, and scored
// against the reference note: ROUGE-1/2/L F-measure ×100 with the
// Unicode tokenizer (rouge1, rouge2, rougeL) and with rouge_score's own
// ASCII tokenizer (…_ascii), the share of sentences citing at least one
// turn (citation_coverage, 0–1) and the share the grounding checker does
// not support (unsupported_rate, 0–1).
//
// It imports assist/summary, evals, evals/suite and evals/runner.
package summaryeval

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/summary"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
)

// Executor runs one visit_note case.
type Executor struct {
	Suite   *suite.Suite
	Service *summary.Service
}

var _ runner.Executor = (*Executor)(nil)

// Scores computes the suite metrics of a draft against its reference.
// kind "section" scores the sentences only (MTS-Dialog's reference is one
// section's text); "note" scores the whole note with its headings.
func Scores(metrics []string, d *summary.Draft, kind, ref string) (map[string]float64, string, error) {
	hyp := d.Text()
	if kind == "section" {
		var parts []string
		for _, s := range d.Sentences() {
			parts = append(parts, s.Text)
		}
		hyp = strings.Join(parts, " ")
	}
	sents := d.Sentences()
	cited, unsupported := 0, 0
	for _, s := range sents {
		if len(s.Cites) > 0 {
			cited++
		}
		if !s.Supported {
			unsupported++
		}
	}
	sc := map[string]float64{}
	for _, m := range metrics {
		switch m {
		case "citation_coverage":
			sc[m] = ratio(cited, len(sents))
		case "unsupported_rate":
			sc[m] = ratio(unsupported, len(sents))
		default:
			typ, ascii := strings.CutSuffix(m, "_ascii")
			r, err := evals.RougeWith(typ, ref, hyp, evals.RougeOptions{Unicode: !ascii})
			if err != nil {
				return nil, "", err
			}
			sc[m] = 100 * r.FMeasure
		}
	}
	return sc, hyp, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Execute implements runner.Executor.
func (e *Executor) Execute(ctx context.Context, c evals.Case) (runner.Outcome, error) {
	var in struct {
		Dialogue, Kind string
	}
	var exp struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(c.Input, &in); err != nil || in.Dialogue == "" {
		return runner.Outcome{}, assist.E(assist.KindInvalid, "summaryeval.Execute", fmt.Sprintf("case %q: input.dialogue is required", c.ID))
	}
	if err := c.DecodeExpected(&exp); err != nil || exp.Text == "" {
		return runner.Outcome{}, assist.E(assist.KindInvalid, "summaryeval.Execute", fmt.Sprintf("case %q: expected.text is required", c.ID))
	}
	tmpl, lang := e.Suite.NoteTemplate, e.Suite.Lang
	if tmpl == "" {
		tmpl = "soap"
	}
	if lang == "" {
		lang = "en"
	}
	turns := summary.TurnsFromDialogue(in.Dialogue)
	d, err := e.Service.Draft(ctx, &summary.Request{Turns: turns, Template: tmpl, Lang: lang}, nil)
	if err != nil {
		return runner.Outcome{}, err
	}
	sc, hyp, err := Scores(e.Suite.Metrics, d, in.Kind, exp.Text)
	if err != nil {
		return runner.Outcome{}, assist.E(assist.KindInvalid, "summaryeval.Execute", err.Error())
	}
	return runner.Outcome{Input: in.Dialogue, Expected: exp.Text, Output: hyp, Scores: sc, ModelDigest: d.Model.Digest, AuditSeq: d.AuditSeq}, nil
}
