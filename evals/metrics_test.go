package evals

import (
	"math"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	for _, tc := range []struct {
		name              string
		exp, got          []string
		want              Counts
		precision, recall float64
	}{
		{"perfect", []string{"a", "b"}, []string{"b", "a"}, Counts{2, 0, 0}, 1, 1},
		{"one extra", []string{"a"}, []string{"a", "b"}, Counts{1, 1, 0}, 0.5, 1},
		{"one missed", []string{"a", "b"}, []string{"a"}, Counts{1, 0, 1}, 1, 0.5},
		{"nothing either way", nil, nil, Counts{}, 1, 1},
		{"all wrong", []string{"a"}, []string{"b"}, Counts{0, 1, 1}, 0, 0},
		{"duplicates count once", []string{"a", "a"}, []string{"a", "a"}, Counts{1, 0, 0}, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CompareSets(tc.exp, tc.got)
			if c != tc.want {
				t.Fatalf("CompareSets = %+v, want %+v", c, tc.want)
			}
			if c.Precision() != tc.precision || c.Recall() != tc.recall {
				t.Errorf("precision %v recall %v, want %v %v", c.Precision(), c.Recall(), tc.precision, tc.recall)
			}
		})
	}
	if f := (Counts{TP: 1, FP: 1, FN: 0}).F1(); math.Abs(f-2.0/3) > 1e-9 {
		t.Errorf("F1 = %v", f)
	}
	if f := (Counts{FP: 1, FN: 1}).F1(); f != 0 {
		t.Errorf("F1 of all wrong = %v", f)
	}
}

func TestTally(t *testing.T) {
	cat := map[string]string{"DDI-1": "interaction", "DDI-2": "interaction", "REN-1": "renal"}
	label := func(id string) string { return cat[id] }
	tl := NewTally()
	tl.Add("case1", []string{"DDI-1", "REN-1"}, []string{"DDI-1", "REN-1"}, label)
	tl.Add("case2", []string{"DDI-1"}, []string{"DDI-2"}, label)
	tl.Add("case3", []string{"REN-1"}, nil, label)

	if got := tl.Get("interaction"); got != (Counts{TP: 1, FP: 1, FN: 1}) {
		t.Errorf("interaction = %+v", got)
	}
	if got := tl.Get("renal"); got != (Counts{TP: 1, FN: 1}) {
		t.Errorf("renal = %+v", got)
	}
	if got := tl.Total(); got != (Counts{TP: 2, FP: 1, FN: 2}) {
		t.Errorf("total = %+v", got)
	}
	if got := strings.Join(tl.Labels(), ","); got != "interaction,renal" {
		t.Errorf("labels = %s", got)
	}
	misses := tl.Misses()
	if len(misses) != 3 || misses[0].CaseID != "case2" || misses[0].Kind != "FN" || misses[0].Item != "DDI-1" {
		t.Errorf("misses = %+v", misses)
	}
	rep := tl.Report()
	for _, want := range []string{"label", "interaction", "renal", "TOTAL", "0.667"} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
}
