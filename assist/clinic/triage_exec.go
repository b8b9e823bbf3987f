package clinic

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/clinic/redflags"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/retrieval"
)

// TriageCase is the input and expected output of a clinic_triage
// evaluation case.
type TriageCase struct {
	Input struct {
		Lang     string `json:"lang"`
		Messages []struct {
			Author Author `json:"author"`
			Text   string `json:"text"`
		} `json:"messages"`
	}
	Expected struct {
		Urgency     redflags.Urgency `json:"urgency"`
		Flags       []string         `json:"flags"`
		AbsentFlags []string         `json:"absent_flags"`
		Reply       string           `json:"reply"`
	}
}

// DecodeTriageCase reads a clinic_triage case. Errors: invalid.
func DecodeTriageCase(c evals.Case) (TriageCase, error) {
	var tc TriageCase
	if err := c.DecodeInput(&tc.Input); err != nil {
		return tc, assist.E(assist.KindInvalid, "clinic.DecodeTriageCase", err.Error())
	}
	if err := c.DecodeExpected(&tc.Expected); err != nil {
		return tc, assist.E(assist.KindInvalid, "clinic.DecodeTriageCase", err.Error())
	}
	if !tc.Expected.Urgency.Valid() || len(tc.Input.Messages) == 0 {
		return tc, assist.E(assist.KindInvalid, "clinic.DecodeTriageCase", fmt.Sprintf("case %q: needs messages and a canonical urgency", c.ID))
	}
	return tc, nil
}

// Outcome runs the red-flag rules alone over the case's patient messages.
func (tc TriageCase) Outcome(rules *redflags.Set, id string) TriageOutcome {
	var msgs []redflags.Message
	for _, m := range tc.Input.Messages {
		if m.Author == AuthorPatient {
			msgs = append(msgs, redflags.Message{Text: m.Text})
		}
	}
	r := rules.Detect(msgs)
	o := TriageOutcome{ID: id, Want: tc.Expected.Urgency, Got: RuleBaseline(r), WantFlags: tc.Expected.Flags, AbsentFlags: tc.Expected.AbsentFlags}
	for _, f := range r.Findings {
		if !slices.Contains(o.GotFlags, f.Flag) {
			o.GotFlags = append(o.GotFlags, f.Flag)
		}
	}
	return o
}

// TriageExecutor runs the suite task clinic_triage (evals/runner): the
// red-flag rules alone, scored per case as exact, safe, emergency_missed,
// over_triage, under_triage (0 or 1), flag_recall (share of the expected
// flags raised; 1 when none is expected) and denied_flag_raised (1 when a
// flag the patient denied was raised).
type TriageExecutor struct {
	Rules *redflags.Set
}

var _ runner.Executor = (*TriageExecutor)(nil)

// Execute implements runner.Executor.
func (e *TriageExecutor) Execute(_ context.Context, c evals.Case) (runner.Outcome, error) {
	tc, err := DecodeTriageCase(c)
	if err != nil {
		return runner.Outcome{}, err
	}
	o := tc.Outcome(e.Rules, c.ID)
	var texts []string
	for _, m := range tc.Input.Messages {
		texts = append(texts, string(m.Author)+": "+m.Text)
	}
	return runner.Outcome{
		Input:    strings.Join(texts, "\n"),
		Expected: string(o.Want) + " " + strings.Join(o.WantFlags, " "),
		Output:   string(o.Got) + " " + strings.Join(o.GotFlags, " "),
		Scores:   caseScores(o),
	}, nil
}

// caseScores are the per-case measures of a triage outcome.
func caseScores(o TriageOutcome) map[string]float64 {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	w, g := o.Want.Rank(), o.Got.Rank()
	if g < 0 {
		g = len(redflags.Levels)
	}
	recall := 1.0
	if len(o.WantFlags) > 0 {
		hit := 0
		for _, f := range o.WantFlags {
			if slices.Contains(o.GotFlags, f) {
				hit++
			}
		}
		recall = float64(hit) / float64(len(o.WantFlags))
	}
	denied := false
	for _, f := range o.AbsentFlags {
		denied = denied || slices.Contains(o.GotFlags, f)
	}
	return map[string]float64{"exact": b(g == w), "safe": b(g-w <= 1), "emergency_missed": b(o.Want == redflags.Emergency && o.Got != redflags.Emergency),
		"over_triage": b(g < w), "under_triage": b(g > w), "flag_recall": recall, "denied_flag_raised": b(denied)}
}

// NoInstructions is a Searcher that finds no passage: for evaluating the
// urgency alone (every model draft is withheld for want of sources).
type NoInstructions struct{}

// Search returns no results.
func (NoInstructions) Search(_ context.Context, q retrieval.Query) (retrieval.Hits, error) {
	return retrieval.Hits{Collection: q.Collection, Results: []retrieval.Result{}}, nil
}

// ModelTriageExecutor runs the suite task clinic_assist: the whole
// suggestion pipeline with the model under evaluation (red flags, the
// audited model call, the safety rules), scored like TriageExecutor on the
// suggested urgency. Collection names the instruction collection to cite
// ("" with a NoInstructions searcher).
type ModelTriageExecutor struct {
	Svc        *Service
	Collection string
}

var _ runner.Executor = (*ModelTriageExecutor)(nil)

// Execute implements runner.Executor. Errors: invalid for a bad case; the
// model's errors (recorded on the case by the runner).
func (e *ModelTriageExecutor) Execute(ctx context.Context, c evals.Case) (runner.Outcome, error) {
	tc, err := DecodeTriageCase(c)
	if err != nil {
		return runner.Outcome{}, err
	}
	req := Request{Collection: e.Collection, Lang: tc.Input.Lang}
	if req.Collection == "" {
		req.Collection = "none"
	}
	var texts []string
	for _, m := range tc.Input.Messages {
		req.Conversation = append(req.Conversation, Message{Author: m.Author, Text: m.Text})
		texts = append(texts, string(m.Author)+": "+m.Text)
	}
	sg, err := e.Svc.Assist(ctx, req)
	if err != nil {
		if assist.KindOf(err) == assist.KindInvalid {
			return runner.Outcome{}, assist.E(assist.KindInvalid, "clinic.ModelTriageExecutor", fmt.Sprintf("case %q: %s", c.ID, assist.MessageOf(err)))
		}
		return runner.Outcome{}, err
	}
	o := TriageOutcome{ID: c.ID, Want: tc.Expected.Urgency, Got: sg.Urgency.Canonical, WantFlags: tc.Expected.Flags, AbsentFlags: tc.Expected.AbsentFlags}
	for _, f := range sg.RedFlags {
		if !slices.Contains(o.GotFlags, f.Flag) {
			o.GotFlags = append(o.GotFlags, f.Flag)
		}
	}
	return runner.Outcome{
		Input:    strings.Join(texts, "\n"),
		Expected: string(o.Want) + " " + strings.Join(o.WantFlags, " "),
		Output:   string(o.Got) + " (" + sg.Urgency.Basis + ") " + strings.Join(o.GotFlags, " "),
		Scores:   caseScores(o), ModelDigest: sg.Model.Digest, AuditSeq: sg.ModelCall,
	}, nil
}
