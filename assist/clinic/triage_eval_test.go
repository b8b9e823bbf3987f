package clinic

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist/clinic/redflags"
	"github.com/soteai/gateway/evals"
)

// triageCase is the input and expected output of a clinic_triage case.
type triageCase struct {
	Input struct {
		Lang     string `json:"lang"`
		Messages []struct {
			Author string `json:"author"`
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

func loadTriageCases(t *testing.T) ([]evals.Case, []triageCase) {
	t.Helper()
	cases, err := evals.LoadFile(os.DirFS("../../evals/testdata"), "clinic_triage.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]triageCase, len(cases))
	for i, c := range cases {
		if err := c.DecodeInput(&out[i].Input); err != nil {
			t.Fatal(err)
		}
		if err := c.DecodeExpected(&out[i].Expected); err != nil {
			t.Fatal(err)
		}
		if !out[i].Expected.Urgency.Valid() || !strings.HasPrefix(c.Notes, "Source: ") {
			t.Fatalf("%s: needs a canonical urgency and a cited source", c.ID)
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
		var msgs []redflags.Message
		for _, m := range tc.Input.Messages {
			if m.Author == "patient" {
				msgs = append(msgs, redflags.Message{Text: m.Text})
			}
		}
		r := rules.Detect(msgs)
		o := TriageOutcome{ID: cases[i].ID, Want: tc.Expected.Urgency, Got: RuleBaseline(r),
			WantFlags: tc.Expected.Flags, AbsentFlags: tc.Expected.AbsentFlags}
		for _, f := range r.Findings {
			o.GotFlags = append(o.GotFlags, f.Flag)
		}
		outs = append(outs, o)
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

var _ = sort.Strings
