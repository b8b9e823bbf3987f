package evals

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestTERReferenceCases(t *testing.T) {
	var file struct {
		Cases []sacrebleuCase `json:"cases"`
	}
	loadMetricCases(t, "sacrebleu_cases.json", &file)
	var cov wantMissing
	for _, c := range file.Cases {
		if c.Metric != "ter" {
			continue
		}
		t.Run(c.CaseID, func(t *testing.T) {
			if c.Source == "" {
				t.Fatal("case without source")
			}
			if len(c.Options) != 0 {
				t.Fatalf("TER options %v not implemented", c.Options)
			}
			var refs [][]string
			if err := json.Unmarshal(c.References, &refs); err != nil {
				t.Fatal(err)
			}
			got, err := CorpusTER(c.Hypotheses, refs, TEROptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := number(t, c.Expected); !closeTo(t, c.Tolerance, got, want) {
				t.Errorf("TER = %.6f, want %v", got, want)
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	cov.report(t, "TER")
}

func TestTranslationEdits(t *testing.T) {
	w := strings.Fields
	for _, tc := range []struct {
		hyp, ref string
		want     int
	}{
		{"a b c", "a b c", 0},
		{"a b c", "a x c", 1},
		{"a b c d", "a c d", 1},
		// One block shift beats four substitutions.
		{"e f g h a b c d", "a b c d e f g h", 1},
		{"", "a b", 2},
		{"a b", "", 2},
	} {
		if got := TranslationEdits(w(tc.hyp), w(tc.ref)); got != tc.want {
			t.Errorf("TranslationEdits(%q, %q) = %d, want %d", tc.hyp, tc.ref, got, tc.want)
		}
	}
	if got := performShift(w("a b c d e"), 3, 2, 0); !slices.Equal(got, w("d e a b c")) {
		t.Errorf("performShift left = %v", got)
	}
	if got := performShift(w("a b c d e"), 0, 2, 4); !slices.Equal(got, w("c d a b e")) {
		t.Errorf("performShift right = %v", got)
	}
	if _, err := CorpusTER([]string{"a"}, [][]string{{"a", "b"}}, TEROptions{}); err == nil {
		t.Error("mismatched stream accepted")
	}
}
