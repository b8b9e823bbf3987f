package runner

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/suite"
)

// Summary is a run's result: per metric the mean over cases with a 95%
// bootstrap interval, the same per category, corpus-level scores where
// the metric has one, latency and throughput, and the thresholds.
type Summary struct {
	Cases      int                                  `json:"cases"`
	Errors     int                                  `json:"errors"`
	Metrics    map[string]evals.Interval            `json:"metrics"`
	Corpus     map[string]float64                   `json:"corpus,omitempty"`
	Categories map[string]map[string]evals.Interval `json:"categories"`
	// CategoryCases counts the cases per category.
	CategoryCases map[string]int    `json:"category_cases"`
	LatencyP50    float64           `json:"latency_p50_ms"`
	LatencyP95    float64           `json:"latency_p95_ms"`
	TokensPerSec  float64           `json:"tokens_per_second"`
	Digests       []string          `json:"digests,omitempty"` // model digests seen in results
	Thresholds    []ThresholdResult `json:"thresholds"`
	Pass          bool              `json:"pass"`
}

// ThresholdResult is one checked threshold.
type ThresholdResult struct {
	Metric string  `json:"metric"`
	Op     string  `json:"op"` // ">=" or "<=" or "errors <="
	Limit  float64 `json:"limit"`
	Value  float64 `json:"value"`
	Pass   bool    `json:"pass"`
}

func (t ThresholdResult) String() string {
	verdict := "pass"
	if !t.Pass {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s %s %s %g: %.4g", verdict, t.Metric, t.Op, t.Limit, t.Value)
}

// Summarize computes a run's summary from its results.
func Summarize(def *suite.Suite, results []Result) Summary {
	s := Summary{
		Cases: len(results), Metrics: map[string]evals.Interval{}, Categories: map[string]map[string]evals.Interval{},
		CategoryCases: map[string]int{},
	}
	byCat := map[string][]Result{}
	var lat []float64
	var outTok float64
	var modelTime time.Duration
	digests := map[string]bool{}
	for _, r := range results {
		if r.Error != "" {
			s.Errors++
		}
		byCat[r.Category] = append(byCat[r.Category], r)
		lat = append(lat, float64(r.Latency)/float64(time.Millisecond))
		outTok += float64(r.OutputTokens)
		modelTime += r.Latency
		if r.ModelDigest != "" {
			digests[r.ModelDigest] = true
		}
	}
	s.Digests = sortedKeys(digests)
	s.LatencyP50, s.LatencyP95 = evals.Percentile(lat, 0.5), evals.Percentile(lat, 0.95)
	if modelTime > 0 && outTok > 0 {
		s.TokensPerSec = outTok / modelTime.Seconds()
	}
	for _, m := range def.Metrics {
		s.Metrics[m] = evals.Bootstrap(scores(results, m), evals.BootstrapOptions{})
	}
	for cat, rs := range byCat {
		s.CategoryCases[cat] = len(rs)
		s.Categories[cat] = map[string]evals.Interval{}
		for _, m := range def.Metrics {
			s.Categories[cat][m] = evals.Bootstrap(scores(rs, m), evals.BootstrapOptions{})
		}
	}
	s.Corpus = corpusScores(def.Metrics, results)
	s.Pass = true
	for _, t := range def.Thresholds {
		v := s.Metrics[t.Metric].Mean
		if t.Min != nil {
			tr := ThresholdResult{Metric: t.Metric, Op: ">=", Limit: *t.Min, Value: v, Pass: v >= *t.Min}
			s.Thresholds = append(s.Thresholds, tr)
			s.Pass = s.Pass && tr.Pass
		}
		if t.Max != nil {
			tr := ThresholdResult{Metric: t.Metric, Op: "<=", Limit: *t.Max, Value: v, Pass: v <= *t.Max}
			s.Thresholds = append(s.Thresholds, tr)
			s.Pass = s.Pass && tr.Pass
		}
	}
	te := ThresholdResult{Metric: "errors", Op: "<=", Limit: float64(def.MaxErrors), Value: float64(s.Errors), Pass: s.Errors <= def.MaxErrors}
	s.Thresholds = append(s.Thresholds, te)
	s.Pass = s.Pass && te.Pass
	return s
}

func scores(rs []Result, metric string) []float64 {
	out := make([]float64, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Scores[metric])
	}
	return out
}

// corpusScores computes the corpus-level form of chrF, chrF++, BLEU and
// TER (what published numbers report) from the stored outputs, over the
// cases that did not fail.
func corpusScores(metrics []string, results []Result) map[string]float64 {
	var hyps, refs []string
	for _, r := range results {
		if r.Error == "" {
			hyps = append(hyps, r.Output)
			refs = append(refs, r.Expected)
		}
	}
	if len(hyps) == 0 {
		return nil
	}
	out := map[string]float64{}
	streams := [][]string{refs}
	for _, m := range metrics {
		var (
			v   float64
			err error
		)
		switch m {
		case "chrf":
			v, err = evals.CorpusChrF(hyps, streams, evals.DefaultChrF())
		case "chrf++":
			o := evals.DefaultChrF()
			o.WordOrder = 2
			v, err = evals.CorpusChrF(hyps, streams, o)
		case "bleu":
			v, err = evals.CorpusBLEU(hyps, streams, evals.DefaultBLEU())
		case "ter":
			v, err = evals.CorpusTER(hyps, streams, evals.TEROptions{})
			v *= 100
		default:
			continue
		}
		if err == nil && !math.IsNaN(v) {
			out[m] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Comparison is a case-by-case comparison of a candidate run with a
// baseline run of the same suite and dataset.
type Comparison struct {
	Baseline  string          `json:"baseline"`
	Candidate string          `json:"candidate"`
	Pairs     int             `json:"pairs"`
	Metrics   []MetricCompare `json:"metrics"`
	Gates     []GateResult    `json:"gates"`
	Pass      bool            `json:"pass"`
	// Worse lists the cases whose primary metric dropped most.
	Worse []CaseDelta `json:"worse"`
}

// MetricCompare is one metric's paired comparison (candidate − baseline).
type MetricCompare struct {
	Metric       string             `json:"metric"`
	Baseline     float64            `json:"baseline"`
	Candidate    float64            `json:"candidate"`
	HigherBetter bool               `json:"higher_better"`
	Paired       evals.PairedResult `json:"paired"`
}

// GateResult is one checked regression gate.
type GateResult struct {
	Metric  string  `json:"metric"`
	MaxDrop float64 `json:"max_drop"`
	Drop    float64 `json:"drop"` // how much worse the candidate is (negative: better)
	P       float64 `json:"p"`
	Pass    bool    `json:"pass"`
}

func (g GateResult) String() string {
	verdict := "pass"
	if !g.Pass {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s %s: worse by %.4g (allowed %g), p = %.3g", verdict, g.Metric, g.Drop, g.MaxDrop, g.P)
}

// CaseDelta is one case's change of the primary metric.
type CaseDelta struct {
	CaseID    string  `json:"case_id"`
	Baseline  float64 `json:"baseline"`
	Candidate float64 `json:"candidate"`
}

// SignificanceLevel is the p-value below which a gate's drop counts.
const SignificanceLevel = 0.05

// Compare pairs the results of two runs by case id. Runs of different
// suites or datasets cannot be compared (Conflict error).
func Compare(base, cand Run, baseRes, candRes []Result) (Comparison, error) {
	if base.SuiteHash != cand.SuiteHash || base.DatasetHash != cand.DatasetHash {
		return Comparison{}, assist.E(assist.KindConflict, "runner.Compare", fmt.Sprintf("runs %s and %s used different suite files or datasets: not comparable", base.ID, cand.ID))
	}
	def := cand.Definition
	bm := map[string]Result{}
	for _, r := range baseRes {
		bm[r.CaseID] = r
	}
	var pb, pc []Result
	for _, r := range candRes {
		if b, ok := bm[r.CaseID]; ok {
			pb = append(pb, b)
			pc = append(pc, r)
		}
	}
	if len(pb) == 0 {
		return Comparison{}, assist.E(assist.KindConflict, "runner.Compare", fmt.Sprintf("runs %s and %s have no case in common", base.ID, cand.ID))
	}
	cmp := Comparison{Baseline: base.ID, Candidate: cand.ID, Pairs: len(pb), Pass: true}
	byMetric := map[string]MetricCompare{}
	for _, m := range def.Metrics {
		a, b := scores(pb, m), scores(pc, m)
		pr, err := evals.PairedBootstrap(a, b, evals.BootstrapOptions{})
		if err != nil {
			return Comparison{}, err
		}
		hb, _ := suite.HigherBetter(m)
		mc := MetricCompare{Metric: m, Baseline: mean(a), Candidate: mean(b), HigherBetter: hb, Paired: pr}
		cmp.Metrics = append(cmp.Metrics, mc)
		byMetric[m] = mc
	}
	for _, g := range def.Gates {
		mc := byMetric[g.Metric]
		drop := mc.Baseline - mc.Candidate
		if !mc.HigherBetter {
			drop = -drop
		}
		gr := GateResult{Metric: g.Metric, MaxDrop: g.MaxDrop, Drop: drop, P: mc.Paired.P}
		gr.Pass = !(drop > g.MaxDrop && mc.Paired.P < SignificanceLevel)
		cmp.Gates = append(cmp.Gates, gr)
		cmp.Pass = cmp.Pass && gr.Pass
	}
	prim := def.Primary()
	hb, _ := suite.HigherBetter(prim)
	for i := range pb {
		cmp.Worse = append(cmp.Worse, CaseDelta{pb[i].CaseID, pb[i].Scores[prim], pc[i].Scores[prim]})
	}
	worse := func(d CaseDelta) float64 {
		if hb {
			return d.Baseline - d.Candidate
		}
		return d.Candidate - d.Baseline
	}
	slices.SortStableFunc(cmp.Worse, func(x, y CaseDelta) int {
		switch wx, wy := worse(x), worse(y); {
		case wx > wy:
			return -1
		case wx < wy:
			return 1
		}
		return 0
	})
	cmp.Worse = slices.DeleteFunc(cmp.Worse, func(d CaseDelta) bool { return worse(d) <= 0 })
	if len(cmp.Worse) > 10 {
		cmp.Worse = cmp.Worse[:10]
	}
	return cmp, nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
