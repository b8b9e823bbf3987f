package evals

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The reference cases are copied from Apache-2.0 upstream test files
// (see testdata/metrics/NOTICE); each case keeps its "source".

// loadMetricCases decodes testdata/metrics/<name> into v.
func loadMetricCases(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "metrics", name))
	if err != nil {
		t.Fatalf("reference metric cases: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// strs decodes a JSON string or list of strings.
func strs(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		t.Fatalf("not a string or list of strings: %s", raw)
	}
	return many
}

var relTolRe = regexp.MustCompile(`rel ([0-9.e-]+)`)
var approxTolRe = regexp.MustCompile(`~([0-9.e-]+)`)

// closeTo compares got with want under a case's tolerance field: a number
// is an absolute tolerance; the strings upstream used are "pytest.approx
// default (rel 1e-6)", "... compare with ~1e-9" and "exact ..." (a printed
// Python float, compared to within a few units in the last place).
func closeTo(t *testing.T, tol json.RawMessage, got, want float64) bool {
	t.Helper()
	var abs float64
	if err := json.Unmarshal(tol, &abs); err == nil {
		// A difference of one rounding in an equivalent float expression
		// is below any upstream assertion's intent.
		return math.Abs(got-want) <= max(abs, 4*ulp(want))
	}
	var s string
	if err := json.Unmarshal(tol, &s); err != nil {
		t.Fatalf("tolerance %s", tol)
	}
	if m := relTolRe.FindStringSubmatch(s); m != nil {
		r, _ := strconv.ParseFloat(m[1], 64)
		return math.Abs(got-want) <= r*math.Abs(want)
	}
	if m := approxTolRe.FindStringSubmatch(s); m != nil {
		a, _ := strconv.ParseFloat(m[1], 64)
		return math.Abs(got-want) <= a
	}
	if strings.HasPrefix(s, "exact") {
		return math.Abs(got-want) <= 4*ulp(want)
	}
	t.Fatalf("unknown tolerance %q", s)
	return false
}

func ulp(x float64) float64 { return math.Nextafter(math.Abs(x), math.Inf(1)) - math.Abs(x) }

type wantMissing struct{ covered, excluded []string }

func (w *wantMissing) report(t *testing.T, metric string) {
	t.Logf("%s reference cases: %d covered, %d excluded %v", metric, len(w.covered), len(w.excluded), w.excluded)
	if len(w.covered) == 0 {
		t.Errorf("%s: no reference case was checked", metric)
	}
}

func TestWERReferenceCases(t *testing.T) {
	var file struct {
		Cases []struct {
			CaseID     string                     `json:"case_id"`
			Source     string                     `json:"source"`
			Reference  json.RawMessage            `json:"reference"`
			Hypothesis json.RawMessage            `json:"hypothesis"`
			Measure    string                     `json:"measure"`
			Transform  string                     `json:"transform"`
			Expected   map[string]json.RawMessage `json:"expected"`
			Tolerance  json.RawMessage            `json:"tolerance"`
		} `json:"cases"`
	}
	loadMetricCases(t, "wer_cases.json", &file)
	var cov wantMissing
	for _, c := range file.Cases {
		t.Run(c.CaseID, func(t *testing.T) {
			if c.Source == "" {
				t.Fatal("case without source")
			}
			refs, hyps := strs(t, c.Reference), strs(t, c.Hypothesis)
			var (
				got EditCounts
				err error
			)
			switch {
			case c.Transform == "wer_contiguous":
				got = WordErrorsContiguous(refs, hyps)
			case c.Measure == "word":
				got, err = WordErrors(refs, hyps)
			case c.Measure == "char":
				got, err = CharErrors(refs, hyps)
			default:
				t.Fatalf("unknown measure %q / transform %q", c.Measure, c.Transform)
			}
			if err != nil {
				t.Fatal(err)
			}
			measures := map[string]float64{
				"wer": got.ErrorRate(), "cer": got.ErrorRate(), "mer": got.MER(), "wil": got.WIL(), "wip": got.WIP(),
			}
			counts := map[string]int{
				"hits": got.Hits, "substitutions": got.Substitutions, "deletions": got.Deletions, "insertions": got.Insertions,
			}
			for key, raw := range c.Expected {
				if name, ok := strings.CutSuffix(key, "_percent_2dp"); ok {
					var want string
					_ = json.Unmarshal(raw, &want)
					if s := fmt.Sprintf("%.2f%%", 100*measures[name]); s != want {
						t.Errorf("%s = %s, want %s", key, s, want)
					}
					continue
				}
				var want float64
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				if n, ok := counts[key]; ok {
					if float64(n) != want {
						t.Errorf("%s = %d, want %v (counts %+v)", key, n, want, got)
					}
					continue
				}
				v, ok := measures[key]
				if !ok {
					t.Fatalf("unknown expected key %q", key)
				}
				if !closeTo(t, c.Tolerance, v, want) {
					t.Errorf("%s = %.17g, want %.17g (counts %+v)", key, v, want, got)
				}
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	cov.report(t, "WER/CER")
}

// TestAlignTokensIsMinimal checks on random inputs that the rapidfuzz-style
// back-trace always yields a minimum number of edits and consistent counts.
func TestAlignTokensIsMinimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func() []string {
		out := make([]string, rng.IntN(9))
		for i := range out {
			out[i] = string(rune('a' + rng.IntN(3)))
		}
		return out
	}
	for range 3000 {
		ref, hyp := gen(), gen()
		c := alignTokens(ref, hyp)
		if c.Hits+c.Substitutions+c.Deletions != len(ref) || c.Hits+c.Substitutions+c.Insertions != len(hyp) {
			t.Fatalf("%v / %v: inconsistent counts %+v", ref, hyp, c)
		}
		if d := levenshtein(ref, hyp); c.errors() != d {
			t.Fatalf("%v / %v: %d edits, distance is %d", ref, hyp, c.errors(), d)
		}
	}
}

func levenshtein(a, b []string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

type sacrebleuCase struct {
	CaseID     string          `json:"case_id"`
	Source     string          `json:"source"`
	Metric     string          `json:"metric"`
	Level      string          `json:"level"`
	Hypotheses []string        `json:"hypotheses"`
	Hypothesis string          `json:"hypothesis"`
	References json.RawMessage `json:"references"`
	Options    map[string]any  `json:"options"`
	Expected   json.RawMessage `json:"expected"`
	Tolerance  json.RawMessage `json:"tolerance"`
	Scale      string          `json:"scale"`
	Statistics json.RawMessage `json:"statistics"` // precomputed BLEU counts
	// ExpectedText is the printed score of a documentation example, e.g.
	// "chrF2 = 59.73".
	ExpectedText string `json:"expected_text"`
}

func number(t *testing.T, raw json.RawMessage) float64 {
	t.Helper()
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("expected value %s: %v", raw, err)
	}
	return v
}

func chrfOptions(t *testing.T, opts map[string]any) ChrFOptions {
	t.Helper()
	o := DefaultChrF()
	for k, v := range opts {
		switch k {
		case "char_order":
			o.CharOrder = int(v.(float64))
		case "word_order":
			o.WordOrder = int(v.(float64))
		case "beta":
			o.Beta = v.(float64)
		case "eps_smoothing":
			o.EpsSmoothing = v.(bool)
		case "lowercase":
			o.Lowercase = v.(bool)
		case "remove_whitespace":
			o.KeepWhitespace = !v.(bool)
		case "whitespace":
			o.KeepWhitespace = v.(bool)
		default:
			t.Fatalf("unknown chrF option %q", k)
		}
	}
	return o
}

func TestChrFReferenceCases(t *testing.T) {
	var file struct {
		Cases []sacrebleuCase `json:"cases"`
		Docs  []sacrebleuCase `json:"documentation_examples"`
	}
	loadMetricCases(t, "sacrebleu_cases.json", &file)
	var cov wantMissing
	for _, c := range file.Cases {
		if c.Metric != "chrf" {
			continue
		}
		t.Run(c.CaseID, func(t *testing.T) {
			if c.Source == "" {
				t.Fatal("case without source")
			}
			o := chrfOptions(t, c.Options)
			var (
				got float64
				err error
			)
			switch c.Level {
			case "sentence":
				var refs []string
				if err := json.Unmarshal(c.References, &refs); err != nil {
					t.Fatal(err)
				}
				got, err = SentenceChrF(c.Hypothesis, refs, o)
			case "corpus":
				var refs [][]string
				if err := json.Unmarshal(c.References, &refs); err != nil {
					t.Fatal(err)
				}
				got, err = CorpusChrF(c.Hypotheses, refs, o)
			default:
				t.Fatalf("unknown level %q", c.Level)
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := number(t, c.Expected); !closeTo(t, c.Tolerance, got, want) {
				t.Errorf("chrF = %.10g, want %.10g (options %+v)", got, want, o)
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	// The README example is documentation: a smoke test at its printed
	// precision (two decimals).
	for _, c := range file.Docs {
		if c.Metric != "chrf" {
			continue
		}
		t.Run(c.CaseID, func(t *testing.T) {
			var refs [][]string
			if err := json.Unmarshal(c.References, &refs); err != nil {
				t.Fatal(err)
			}
			got, err := CorpusChrF(c.Hypotheses, refs, chrfOptions(t, c.Options))
			if err != nil {
				t.Fatal(err)
			}
			want := printedScore(t, c.ExpectedText)
			if math.Abs(got-want) > 0.005 {
				t.Errorf("chrF = %.4f, want %.2f", got, want)
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	cov.report(t, "chrF")
}

// printedScore reads the score a README example prints, e.g.
// "chrF2 = 59.73" or "BLEU = 48.53 82.4/50.0/…".
func printedScore(t *testing.T, expectedText string) float64 {
	t.Helper()
	_, printed, _ := strings.Cut(expectedText, "= ")
	want, err := strconv.ParseFloat(strings.Fields(printed + " ?")[0], 64)
	if err != nil {
		t.Fatalf("expected_text %q", expectedText)
	}
	return want
}

// roundedEqual is unittest's assertAlmostEqual: round(want-got, places) == 0.
func roundedEqual(got, want float64, places int) bool {
	p := math.Pow(10, float64(places))
	return math.RoundToEven((want-got)*p) == 0
}

func TestRougeReferenceCases(t *testing.T) {
	type prf struct {
		Precision *float64        `json:"precision"`
		Recall    *float64        `json:"recall"`
		FMeasure  *float64        `json:"fmeasure"`
		Places    json.RawMessage `json:"places"`
	}
	var file struct {
		Cases []struct {
			CaseID     string         `json:"case_id"`
			Source     string         `json:"source"`
			RougeTypes []string       `json:"rouge_types"`
			UseStemmer bool           `json:"use_stemmer"`
			Target     string         `json:"target"`
			Prediction string         `json:"prediction"`
			Expected   map[string]prf `json:"expected"`
		} `json:"cases"`
		LCS []struct {
			CaseID   string          `json:"case_id"`
			Function string          `json:"function"`
			Ref      []int           `json:"ref"`
			Can      []int           `json:"can"`
			Cans     [][]any         `json:"cans"` // token ids (numbers) or words
			Refs     [][]any         `json:"refs"`
			Lists    [][]int         `json:"lcs_index_lists"`
			Expected json.RawMessage `json:"expected"`
		} `json:"lcs_helper_cases"`
		Aggregate []struct {
			CaseID      string             `json:"case_id"`
			Predictions []string           `json:"predictions"`
			References  []string           `json:"references"`
			Options     map[string]any     `json:"options"`
			Expected    map[string]float64 `json:"expected"`
		} `json:"aggregate_cases"`
	}
	loadMetricCases(t, "rouge_cases.json", &file)
	var cov wantMissing
	// places decodes an int or a per-field object ({"fmeasure": 3}, "exact").
	places := func(t *testing.T, raw json.RawMessage, field string) int {
		var n int
		if err := json.Unmarshal(raw, &n); err == nil {
			return n
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("places %s", raw)
		}
		switch v := m[field].(type) {
		case float64:
			return int(v)
		case nil:
			return 7
		default: // "exact"
			return 15
		}
	}
	check := func(t *testing.T, name string, got RougeScore, want prf) {
		for _, f := range []struct {
			field string
			got   float64
			want  *float64
		}{{"precision", got.Precision, want.Precision}, {"recall", got.Recall, want.Recall}, {"fmeasure", got.FMeasure, want.FMeasure}} {
			if f.want == nil {
				continue
			}
			if p := places(t, want.Places, f.field); !roundedEqual(f.got, *f.want, p) {
				t.Errorf("%s %s = %.10g, want %.10g (%d places)", name, f.field, f.got, *f.want, p)
			}
		}
	}
	for _, c := range file.Cases {
		t.Run(c.CaseID, func(t *testing.T) {
			if c.Source == "" {
				t.Fatal("case without source")
			}
			// The Unicode tokenizer must give the same scores on these
			// ASCII texts as rouge_score's English one.
			for _, unicode := range []bool{false, true} {
				for _, typ := range c.RougeTypes {
					got, err := RougeWith(typ, c.Target, c.Prediction, RougeOptions{Stem: c.UseStemmer, Unicode: unicode})
					if err != nil {
						t.Fatal(err)
					}
					want, ok := c.Expected[typ]
					if !ok {
						t.Fatalf("no expected value for %s", typ)
					}
					check(t, fmt.Sprintf("%s (unicode %v)", typ, unicode), got, want)
				}
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	for _, c := range file.LCS {
		t.Run(c.CaseID, func(t *testing.T) {
			// Token ids and words become string tokens.
			toks := func(in [][]any) [][]string {
				out := make([][]string, len(in))
				for i, s := range in {
					out[i] = []string{}
					for _, x := range s {
						out[i] = append(out[i], fmt.Sprint(x))
					}
				}
				return out
			}
			var got any
			switch c.Function {
			case "lcs_length":
				tab := lcsTable(c.Ref, c.Can)
				got = tab[len(c.Ref)][len(c.Can)]
			case "lcs_backtrack_ref_indices":
				got = lcsIndices(c.Ref, c.Can)
			case "find_union":
				got = sortedUnion(c.Lists)
			case "union_lcs":
				ref := toks([][]any{{}})[0]
				for _, x := range c.Ref {
					ref = append(ref, strconv.Itoa(x))
				}
				got = unionLCS(ref, toks(c.Cans))
			case "summary_level_lcs":
				var want prf
				if err := json.Unmarshal(c.Expected, &want); err != nil {
					t.Fatal(err)
				}
				check(t, "summary_level_lcs", rougeLsum(toks(c.Refs), toks(c.Cans)), want)
				return
			default:
				t.Fatalf("unknown helper %q", c.Function)
			}
			g, _ := json.Marshal(got)
			var wantV, gotV any
			_ = json.Unmarshal(c.Expected, &wantV)
			_ = json.Unmarshal(g, &gotV)
			if fmt.Sprint(gotV) != fmt.Sprint(wantV) {
				t.Errorf("%s = %s, want %s", c.Function, g, c.Expected)
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	for _, c := range file.Aggregate {
		// evaluate's aggregate (use_aggregator=True) is the mid-point of
		// rouge_score's BootstrapAggregator over the per-pair F-measures.
		t.Run(c.CaseID, func(t *testing.T) {
			if len(c.Expected) == 0 || len(c.Predictions) == 0 || len(c.Predictions) != len(c.References) {
				t.Fatalf("malformed aggregate case: %d expected values, %d predictions, %d references", len(c.Expected), len(c.Predictions), len(c.References))
			}
			stem, _ := c.Options["use_stemmer"].(bool)
			for typ, want := range c.Expected {
				var fs []float64
				for i := range c.Predictions {
					s, err := RougeWith(typ, c.References[i], c.Predictions[i], RougeOptions{Stem: stem})
					if err != nil {
						t.Fatal(err)
					}
					fs = append(fs, s.FMeasure)
				}
				got := Bootstrap(fs, BootstrapOptions{}).Mid
				if !roundedEqual(got, want, 7) {
					t.Errorf("%s aggregate F = %v, want %v (per pair %v)", typ, got, want, fs)
				}
			}
		})
		cov.covered = append(cov.covered, c.CaseID)
	}
	cov.report(t, "ROUGE")
}
