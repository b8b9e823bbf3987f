// Package riskeval runs labelled medication lists (evals dataset format,
// task "risk_assess") through the risk engine and scores the flags per
// rule category. The risk package's tests and the CLI ("assist risk eval")
// use it (and evals/runner's RiskExecutor). It imports risk, evals and
// assist only.
package riskeval

import (
	"fmt"
	"slices"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/risk"
)

// Expected is the "expected" object of a risk_assess case: the rule ids a
// clinician expects to fire, and note reasons that must be present.
type Expected struct {
	Flags []string          `json:"flags"`
	Notes []risk.NoteReason `json:"notes,omitempty"`
	// Criteria quotes, per expected rule id, the published criterion the
	// expectation comes from (e.g. "SmPC metformin 4.2: GFR 30–44 ml/min —
	// maximum daily dose 1000 mg").
	Criteria map[string]string `json:"criteria,omitempty"`
	// NotFlags are deliberate non-flags: rule ids that must not fire,
	// each with the criterion that says why (a dose inside its band, an
	// as-needed medicine, age 64). One that fires counts as a false
	// positive like any unexpected flag.
	NotFlags map[string]string `json:"not_flags,omitempty"`
}

// Quoted reports whether every expected flag and every deliberate
// non-flag of the case quotes its criterion.
func (e Expected) Quoted() error {
	for _, id := range e.Flags {
		if e.Criteria[id] == "" {
			return fmt.Errorf("expected flag %s quotes no criterion", id)
		}
	}
	for id, q := range e.NotFlags {
		if q == "" {
			return fmt.Errorf("non-flag %s quotes no criterion", id)
		}
		if slices.Contains(e.Flags, id) {
			return fmt.Errorf("%s is both expected and a non-flag", id)
		}
	}
	return nil
}

// Report is the outcome of a run.
type Report struct {
	Cases int
	// Tally has flag counts per rule category.
	Tally *evals.Tally
	// NoteMisses lists expected notes that were not produced.
	NoteMisses []string
	// NonFlags counts deliberate non-flags; NonFlagsFired lists those
	// that fired anyway ("case: rule").
	NonFlags      int
	NonFlagsFired []string
}

// Run assesses every risk_assess case. It fails on a malformed case or an
// expected rule id the knowledge base does not define (a typo would
// otherwise count as a miss forever).
func Run(kb *risk.KB, cases []evals.Case) (Report, error) {
	cases = evals.FilterTask(cases, string(assist.TaskRiskAssess))
	rep := Report{Cases: len(cases), Tally: evals.NewTally()}
	category := func(id string) string {
		if r, ok := kb.Rule(id); ok {
			return string(r.Category)
		}
		return "unknown_rule"
	}
	for _, c := range cases {
		var in risk.Input
		var exp Expected
		if err := c.DecodeInput(&in); err != nil {
			return Report{}, err
		}
		if err := c.DecodeExpected(&exp); err != nil {
			return Report{}, err
		}
		ids := slices.Clone(exp.Flags)
		for id := range exp.NotFlags {
			ids = append(ids, id)
		}
		for id := range exp.Criteria {
			ids = append(ids, id)
		}
		for _, id := range ids {
			if _, ok := kb.Rule(id); !ok {
				return Report{}, fmt.Errorf("line %d: case %q names rule %s, which the knowledge base does not define", c.Line, c.ID, id)
			}
		}
		for id := range exp.Criteria {
			if !slices.Contains(exp.Flags, id) {
				return Report{}, fmt.Errorf("line %d: case %q quotes a criterion for %s, which it does not expect", c.Line, c.ID, id)
			}
		}
		res, err := risk.Assess(kb, in)
		if err != nil {
			return Report{}, fmt.Errorf("line %d: case %q: %w", c.Line, c.ID, err)
		}
		var got []string
		for _, f := range res.Flags {
			if !slices.Contains(got, f.RuleID) {
				got = append(got, f.RuleID)
			}
		}
		rep.Tally.Add(c.ID, exp.Flags, got, category)
		for id := range exp.NotFlags {
			if slices.Contains(got, id) {
				rep.NonFlagsFired = append(rep.NonFlagsFired, c.ID+": "+id)
			}
		}
		rep.NonFlags += len(exp.NotFlags)
		var notes []risk.NoteReason
		for _, n := range res.Notes {
			notes = append(notes, n.Reason)
		}
		for _, want := range exp.Notes {
			if !slices.Contains(notes, want) {
				rep.NoteMisses = append(rep.NoteMisses, fmt.Sprintf("%s: note %s missing (got %v)", c.ID, want, notes))
			}
		}
	}
	return rep, nil
}
