package evals

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// bleuOptions maps a case's sacreBLEU options onto BLEUOptions, starting
// from base. It reports false for a tokenizer that is not implemented.
func bleuOptions(t *testing.T, base BLEUOptions, opts map[string]any) (BLEUOptions, bool) {
	t.Helper()
	o := base
	smoothValue := any(nil)
	for k, v := range opts {
		switch k {
		case "tokenize":
			o.Tokenize = v.(string)
		case "lowercase":
			o.Lowercase = v.(bool)
		case "max_ngram_order":
			o.MaxNgramOrder = int(v.(float64))
		case "smooth_method":
			o.Smooth = v.(string)
		case "smooth_value":
			smoothValue = v
		case "effective_order", "use_effective_order":
			o.EffectiveOrder = v.(bool)
		case "force": // only silences a warning about tokenized input
		default:
			t.Fatalf("unknown BLEU option %q", k)
		}
	}
	if f, ok := smoothValue.(float64); ok {
		o.SmoothValue = f
	} else {
		o.SmoothValue = DefaultSmoothValue(o.Smooth)
	}
	return o, o.check() == nil
}

// bleuMatches compares a score with a case's expected value: a number
// under closeTo, or a printed string ("exact string" with its decimals,
// "exact after rounding to 1 decimal").
func bleuMatches(t *testing.T, c sacrebleuCase, got float64) (bool, string) {
	t.Helper()
	var tol string
	_ = json.Unmarshal(c.Tolerance, &tol)
	var wantS string
	if json.Unmarshal(c.Expected, &wantS) == nil {
		_, frac, _ := strings.Cut(wantS, ".")
		s := strconv.FormatFloat(got, 'f', len(frac), 64)
		return s == wantS, s
	}
	want := number(t, c.Expected)
	if strings.Contains(tol, "rounding to 1 decimal") {
		s := strconv.FormatFloat(got, 'f', 1, 64)
		return s == strconv.FormatFloat(want, 'f', 1, 64), s
	}
	return closeTo(t, c.Tolerance, got, want), strconv.FormatFloat(got, 'g', 12, 64)
}

func TestBLEUReferenceCases(t *testing.T) {
	var file struct {
		Cases []sacrebleuCase `json:"cases"`
		Docs  []sacrebleuCase `json:"documentation_examples"`
	}
	loadMetricCases(t, "sacrebleu_cases.json", &file)
	var cov wantMissing
	for _, c := range file.Cases {
		if !strings.HasPrefix(c.Metric, "bleu") {
			continue
		}
		base := DefaultBLEU()
		switch {
		case c.Level == "sentence":
			base = DefaultSentenceBLEU()
		case c.Metric == "bleu_from_statistics":
			// BLEU.compute_bleu's own defaults: no smoothing.
			base.Smooth = SmoothNone
		}
		o, ok := bleuOptions(t, base, c.Options)
		if !ok {
			cov.excluded = append(cov.excluded, c.CaseID+" (tokenize "+o.Tokenize+")")
			continue
		}
		t.Run(c.CaseID, func(t *testing.T) {
			if c.Source == "" {
				t.Fatal("case without source")
			}
			var refs [][]string
			if c.Level == "sentence" {
				var flat []string
				if err := json.Unmarshal(c.References, &flat); err != nil {
					t.Fatal(err)
				}
				for _, r := range flat {
					refs = append(refs, []string{r})
				}
			} else if c.Metric != "bleu_from_statistics" {
				if err := json.Unmarshal(c.References, &refs); err != nil {
					t.Fatal(err)
				}
			}
			hyps := c.Hypotheses
			if c.Level == "sentence" {
				hyps = []string{c.Hypothesis}
			}
			var (
				got float64
				err error
			)
			switch c.Metric {
			case "bleu_statistics":
				st, err := BLEUStatistics(hyps, refs, o)
				if err != nil {
					t.Fatal(err)
				}
				var want struct{ Counts, Totals []int }
				if err := json.Unmarshal(c.Expected, &want); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(st.Correct, want.Counts) || !slices.Equal(st.Total, want.Totals) {
					t.Errorf("counts %v totals %v, want %v %v", st.Correct, st.Total, want.Counts, want.Totals)
				}
				return
			case "bleu_from_statistics":
				var s struct {
					Correct []int `json:"correct"`
					Total   []int `json:"total"`
					SysLen  int   `json:"sys_len"`
					RefLen  int   `json:"ref_len"`
				}
				if err := json.Unmarshal(c.Statistics, &s); err != nil {
					t.Fatal(err)
				}
				got, err = ScoreBLEU(BLEUStats{HypLen: s.SysLen, RefLen: s.RefLen, Correct: s.Correct, Total: s.Total}, o)
			case "bleu":
				if c.Level == "sentence" {
					got, err = SentenceBLEU(c.Hypothesis, mustFlat(refs), o)
				} else {
					got, err = CorpusBLEU(hyps, refs, o)
				}
			default:
				t.Fatalf("unknown metric %q", c.Metric)
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(c.Scale, "0-1") && !strings.HasPrefix(c.Scale, "0-100") {
				got /= 100
			}
			if ok, shown := bleuMatches(t, c, got); !ok {
				t.Errorf("BLEU = %s, want %s (options %+v)", shown, c.Expected, o)
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	// README examples are documentation: smoke tests at their printed
	// precision (two decimals).
	for _, c := range file.Docs {
		if c.Metric != "bleu" {
			continue
		}
		t.Run(c.CaseID, func(t *testing.T) {
			var refs [][]string
			if err := json.Unmarshal(c.References, &refs); err != nil {
				t.Fatal(err)
			}
			o, ok := bleuOptions(t, DefaultBLEU(), c.Options)
			if !ok {
				t.Fatalf("tokenizer %q", o.Tokenize)
			}
			got, err := CorpusBLEU(c.Hypotheses, refs, o)
			if err != nil {
				t.Fatal(err)
			}
			want := printedScore(t, c.ExpectedText)
			if math.Abs(got-want) > 0.005 {
				t.Errorf("BLEU = %.4f, want %.2f", got, want)
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	cov.report(t, "BLEU")
}

func mustFlat(streams [][]string) []string {
	out := make([]string, len(streams))
	for k, s := range streams {
		out[k] = s[0]
	}
	return out
}

func TestTokenize13a(t *testing.T) {
	// Hand-derived from the rules in Tokenize13aString's comment.
	for _, tc := range []struct{ in, want string }{
		{"It wasn't surprising.", "It wasn't surprising ."},
		{"3.5, 1,000 and 10-20!", "3.5 , 1,000 and 10 - 20 !"},
		{"a&amp;b &quot;x&quot;", `a & b " x "`},
		{"well-\nknown <skipped>end", "wellknown end"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Tokenize13aString(tc.in); got != tc.want {
				t.Errorf("Tokenize13aString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTokenizeIntl(t *testing.T) {
	// Hand-derived from the rules in TokenizeIntlString's comment.
	for _, tc := range []struct{ in, want string }{
		{"It wasn't surprising.", "It wasn ' t surprising ."},
		// A final "!" after a digit has no following character to split on.
		{"3.5, 1,000 and 10-20!", "3.5 , 1,000 and 10-20!"},
		{"«Hei», sanoi hän.", "« Hei » , sanoi hän ."},
		{"5 € + 10 %", "5 € + 10 %"},
		{"a+b", "a + b"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := TokenizeIntlString(tc.in); got != tc.want {
				t.Errorf("TokenizeIntlString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
