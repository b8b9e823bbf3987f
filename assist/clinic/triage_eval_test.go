package clinic

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/clinic/redflags"
	"github.com/soteai/gateway/evals"
)

func loadTriageCases(t *testing.T) ([]evals.Case, []TriageCase) {
	t.Helper()
	cases, err := evals.LoadFile(os.DirFS("../../evals/suite/builtin/data"), "clinic_triage.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]TriageCase, len(cases))
	for i, c := range cases {
		if out[i], err = DecodeTriageCase(c); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.Notes, "Source: ") {
			t.Fatalf("%s: needs a cited source", c.ID)
		}
	}
	return cases, out
}

// TestTriageSuiteRuleBaseline runs the red-flag rules alone over the
// evaluation suite (no model: a conversation without a flag gets
// few_days) and reports the measures. It fails when a nurse's emergency
// is suggested as anything less or a denied flag is raised.
func TestTriageSuiteRuleBaseline(t *testing.T) {
	rules, err := redflags.Default()
	if err != nil {
		t.Fatal(err)
	}
	cases, tcs := loadTriageCases(t)
	langs := map[string]int{}
	var outs []TriageOutcome
	for i, tc := range tcs {
		langs[tc.Input.Lang]++
		outs = append(outs, tc.Outcome(rules, cases[i].ID))
	}
	if len(cases) < 200 || langs["fi"] < 60 || langs["sv"] < 60 || langs["en"] < 60 {
		t.Fatalf("suite too small: %d cases, by language %v", len(cases), langs)
	}
	m := ScoreTriage(outs)
	t.Logf("rule-only baseline on %d cases (%v):\n%s", m.N, langs, FormatTriage(m))
	for _, o := range outs {
		if o.Want == redflags.Emergency && o.Got != redflags.Emergency {
			t.Errorf("%s: emergency suggested as %s (flags %v)", o.ID, o.Got, o.GotFlags)
		}
		for _, f := range o.WantFlags {
			found := false
			for _, g := range o.GotFlags {
				found = found || f == g
			}
			if !found {
				t.Logf("%s: flag %s not raised", o.ID, f)
			}
		}
		for _, f := range o.AbsentFlags {
			for _, g := range o.GotFlags {
				if f == g {
					t.Errorf("%s: denied flag %s raised", o.ID, f)
				}
			}
		}
	}
}

func TestWilson(t *testing.T) {
	for _, tc := range []struct {
		k, n      int
		low, high float64
	}{
		{0, 75, 0, 0.0487}, // upper bound of a rate never observed
		{54, 100, 0.4422, 0.6347},
		{98, 100, 0.9300, 0.9945},
		{10, 10, 0.7225, 1},
	} {
		p := Wilson(tc.k, tc.n)
		if math.Abs(p.Low-tc.low) > 5e-4 || math.Abs(p.High-tc.high) > 5e-4 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tc.k, tc.n, p.Low, p.High, tc.low, tc.high)
		}
	}
}

func TestScoreTriage(t *testing.T) {
	E, S, F, C := redflags.Emergency, redflags.SameDay, redflags.FewDays, redflags.SelfCare
	m := ScoreTriage([]TriageOutcome{
		{Want: E, Got: E, WantFlags: []string{"a"}, GotFlags: []string{"a"}},
		{Want: E, Got: S, WantFlags: []string{"a"}}, // under by one: safe, emergency missed
		{Want: S, Got: C}, // under by two: unsafe
		{Want: F, Got: S, AbsentFlags: []string{"b"}}, // over
		{Want: C, Got: C, AbsentFlags: []string{"b"}, GotFlags: []string{"b"}},
	})
	got := fmt.Sprint(m.Exact.K, m.Safe.K, m.UnderTriage.K, m.OverTriage.K, m.EmergencyMissed.K, m.EmergencyMissed.N,
		m.FlagRecall["a"].K, m.FlagRecall["a"].N, m.DeniedFlagRaised.K, m.DeniedFlagRaised.N)
	if want := "2 4 2 1 1 2 1 2 1 2"; got != want {
		t.Errorf("counts %s, want %s", got, want)
	}
}

// TestTriageExecutor runs the built-in suite's cases through the runner's
// executor and checks its per-case scores agree with ScoreTriage.
func TestTriageExecutor(t *testing.T) {
	rules, err := redflags.Default()
	if err != nil {
		t.Fatal(err)
	}
	cases, tcs := loadTriageCases(t)
	ex := &TriageExecutor{Rules: rules}
	var sums map[string]float64 = map[string]float64{}
	var outs []TriageOutcome
	for i, c := range cases {
		o, err := ex.Execute(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range o.Scores {
			sums[k] += v
		}
		outs = append(outs, tcs[i].Outcome(rules, c.ID))
	}
	m := ScoreTriage(outs)
	if int(sums["exact"]) != m.Exact.K || int(sums["safe"]) != m.Safe.K || int(sums["emergency_missed"]) != m.EmergencyMissed.K ||
		int(sums["over_triage"]) != m.OverTriage.K || int(sums["under_triage"]) != m.UnderTriage.K {
		t.Errorf("executor sums %v disagree with %+v", sums, m)
	}
	bad := cases[0]
	bad.Expected = []byte(`{"urgency":"soon","flags":[]}`)
	if _, err := ex.Execute(context.Background(), bad); assist.KindOf(err) != assist.KindInvalid {
		t.Errorf("bad case: %v", err)
	}
}
