package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/risk"
	"github.com/soteai/gateway/risk/riskeval"
)

// RiskExecutor runs risk_assess cases: each case's medication list is assessed by the rule
// engine and its flags are scored against the expected rule ids
// (precision, recall and F1 of the case's set of flags; 1 when both are
// empty). No model is involved.
type RiskExecutor struct {
	KB *risk.KB
}

// Execute implements Executor. A malformed case, or one expecting
// a rule the knowledge base does not define, is an invalid-kind error.
func (e *RiskExecutor) Execute(_ context.Context, c evals.Case) (Outcome, error) {
	const op = "runner.RiskExecutor"
	var in risk.Input
	var exp riskeval.Expected
	if err := c.DecodeInput(&in); err != nil {
		return Outcome{}, assist.E(assist.KindInvalid, op, err.Error())
	}
	if err := c.DecodeExpected(&exp); err != nil {
		return Outcome{}, assist.E(assist.KindInvalid, op, err.Error())
	}
	for _, id := range exp.Flags {
		if _, ok := e.KB.Rule(id); !ok {
			return Outcome{}, assist.E(assist.KindInvalid, op, fmt.Sprintf("case %q expects rule %s, which the knowledge base does not define", c.ID, id))
		}
	}
	res, err := risk.Assess(e.KB, in)
	if err != nil {
		return Outcome{}, assist.E(assist.KindInvalid, op, fmt.Sprintf("case %q: %v", c.ID, err))
	}
	var got []string
	for _, f := range res.Flags {
		if !slices.Contains(got, f.RuleID) {
			got = append(got, f.RuleID)
		}
	}
	cnt := evals.CompareSets(exp.Flags, got)
	var names []string
	for _, d := range in.Drugs {
		n := d.Name
		if n == "" {
			n = d.ATC
		}
		names = append(names, n)
	}
	input := strings.Join(names, "; ")
	if p := in.Patient; p.Age != nil {
		input = fmt.Sprintf("age %d; %s", *p.Age, input)
	}
	return Outcome{
		Input: input, Expected: strings.Join(exp.Flags, " "), Output: strings.Join(got, " "),
		Scores: map[string]float64{"precision": cnt.Precision(), "recall": cnt.Recall(), "f1": cnt.F1()},
	}, nil
}
