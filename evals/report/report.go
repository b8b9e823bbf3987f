package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
)

// Hash is the hex SHA-256 of a rendered report: what an approval signs.
func Hash(report []byte) string {
	s := sha256.Sum256(report)
	return hex.EncodeToString(s[:])
}

// WorstCases is how many of the worst cases a report shows.
const WorstCases = 10

type caseView struct {
	ID, Category, Input, Expected, Output, Error string
	Scores                                       []scoreView
}

type scoreView struct {
	Metric string
	Value  string
}

type metricRow struct {
	Metric, Mean, Low, High, Corpus, Direction string
}

type runView struct {
	Run        runner.Run
	Sum        runner.Summary
	Created    string
	Finished   string
	Metrics    []metricRow
	Categories template.HTML
	Latency    template.HTML
	Worst      []caseView
	Primary    string
}

func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v != 0 && math.Abs(v) < 0.01:
		return fmt.Sprintf("%.2e", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func direction(metric string) string {
	if hb, _ := suite.HigherBetter(metric); hb {
		return "higher is better"
	}
	return "lower is better"
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// Run renders one run's report. The run must be finished (it has a summary).
func Run(run runner.Run, results []runner.Result) ([]byte, error) {
	if run.Summary == nil || run.Definition == nil {
		return nil, fmt.Errorf("report.Run: run %s is %s and has no summary", run.ID, run.Status)
	}
	s := *run.Summary
	v := runView{Run: run, Sum: s, Created: fmtTime(run.Created), Primary: run.Definition.Primary()}
	if run.Finished != nil {
		v.Finished = fmtTime(*run.Finished)
	}
	for _, m := range run.Definition.Metrics {
		iv := s.Metrics[m]
		row := metricRow{Metric: m, Mean: fmtNum(iv.Mean), Low: fmtNum(iv.Low), High: fmtNum(iv.High), Direction: direction(m)}
		if c, ok := s.Corpus[m]; ok {
			row.Corpus = fmtNum(c)
		}
		v.Metrics = append(v.Metrics, row)
	}
	v.Categories = categoryChart(run.Definition.Metrics, s)
	v.Latency = latencyChart(results, s)
	v.Worst = worst(run.Definition, results, WorstCases)
	var b bytes.Buffer
	if err := runTmpl.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("report.Run: %w", err)
	}
	return b.Bytes(), nil
}

// worst returns the n cases with the worst primary metric (failed cases
// first), ties by case id.
func worst(def *suite.Suite, results []runner.Result, n int) []caseView {
	prim := def.Primary()
	hb, _ := suite.HigherBetter(prim)
	rs := slices.Clone(results)
	slices.SortStableFunc(rs, func(a, b runner.Result) int {
		if (a.Error != "") != (b.Error != "") {
			if a.Error != "" {
				return -1
			}
			return 1
		}
		x, y := a.Scores[prim], b.Scores[prim]
		if !hb {
			x, y = -x, -y
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return strings.Compare(a.CaseID, b.CaseID)
	})
	if len(rs) > n {
		rs = rs[:n]
	}
	out := make([]caseView, 0, len(rs))
	for _, r := range rs {
		cv := caseView{ID: r.CaseID, Category: r.Category, Input: r.Input, Expected: r.Expected, Output: r.Output, Error: r.Error}
		for _, m := range def.Metrics {
			cv.Scores = append(cv.Scores, scoreView{m, fmtNum(r.Scores[m])})
		}
		out = append(out, cv)
	}
	return out
}

const css = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#116329;font-weight:600}.fail{color:#a40e26;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;word-break:break-all}
pre{white-space:pre-wrap;margin:0;font:13px/1.4 ui-monospace,monospace}.case{border:1px solid #d0d7de;margin:.8rem 0;padding:.6rem}
.note{color:#57606a;font-size:.9rem}svg text{font:12px system-ui,sans-serif}`

var funcs = template.FuncMap{"num": fmtNum, "short": func(s string) string {
	if len(s) > 19 {
		return s[:19] + "…"
	}
	return s
}}

var runTmpl = template.Must(template.New("run").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation {{.Run.ID}}: {{.Run.Suite}} / {{.Run.Model.Name}}</title>
<style>` + css + `</style></head><body>
<h1>Evaluation report: {{.Run.Suite}} on {{.Run.Model.Name}}</h1>
<p>Result: {{if .Sum.Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{end}} —
{{.Sum.Cases}} cases, {{.Sum.Errors}} failed model calls.</p>
{{with .Run.Definition.Description}}<p>{{.}}</p>{{end}}
<h2>Provenance</h2>
<dl>
<dt>Run</dt><dd>{{.Run.ID}} ({{.Run.Status}})</dd>
<dt>Suite</dt><dd>{{.Run.Suite}} version {{.Run.Definition.Version}}, task {{.Run.Task}}{{with .Run.Qualifies}}, qualifies a model for {{.}}{{end}}</dd>
<dt>Suite file SHA-256</dt><dd>{{.Run.SuiteHash}}</dd>
<dt>Dataset SHA-256</dt><dd>{{.Run.DatasetHash}}</dd>
<dt>Model</dt><dd>{{.Run.Model.Name}}</dd>
<dt>Model digest</dt><dd>{{.Run.Model.Digest}}</dd>
{{with .Run.Definition.Prompt.Ref}}<dt>Prompt template</dt><dd>{{.}}</dd>{{end}}
<dt>Code version</dt><dd>{{.Run.CodeVersion}}</dd>
<dt>Started</dt><dd>{{.Created}}{{with .Run.CreatedBy}} by {{.}}{{end}}</dd>
{{with .Finished}}<dt>Finished</dt><dd>{{.}}</dd>{{end}}
</dl>
<h2>Metrics</h2>
<table><thead><tr><th scope="col">Metric</th><th scope="col">Mean</th><th scope="col">95% interval</th><th scope="col">Corpus</th><th scope="col">Direction</th></tr></thead><tbody>
{{range .Metrics}}<tr><th scope="row">{{.Metric}}</th><td class="num">{{.Mean}}</td><td class="num">[{{.Low}}, {{.High}}]</td><td class="num">{{.Corpus}}</td><td>{{.Direction}}</td></tr>
{{end}}</tbody></table>
<p class="note">Means over cases with 95% percentile bootstrap intervals (1,000 resamples). Corpus: the corpus-level score as published results report it.</p>
<h2>Thresholds</h2>
<table><thead><tr><th scope="col">Check</th><th scope="col">Limit</th><th scope="col">Value</th><th scope="col">Result</th></tr></thead><tbody>
{{range .Sum.Thresholds}}<tr><th scope="row">{{.Metric}} {{.Op}}</th><td class="num">{{num .Limit}}</td><td class="num">{{num .Value}}</td><td>{{if .Pass}}<span class="pass">pass</span>{{else}}<span class="fail">FAIL</span>{{end}}</td></tr>
{{end}}</tbody></table>
<h2>Metrics per category</h2>
{{.Categories}}
<h2>Latency</h2>
<p>p50 {{num .Sum.LatencyP50}} ms, p95 {{num .Sum.LatencyP95}} ms{{if .Sum.TokensPerSec}}, {{num .Sum.TokensPerSec}} output tokens/s{{end}}.</p>
{{.Latency}}
<h2>Worst cases by {{.Primary}}</h2>
{{range .Worst}}<div class="case"><p><strong>{{.ID}}</strong> ({{.Category}}){{with .Error}} — <span class="fail">model call failed: {{.}}</span>{{end}} —
{{range $i, $s := .Scores}}{{if $i}}, {{end}}{{$s.Metric}} {{$s.Value}}{{end}}</p>
<table><tbody><tr><th scope="row">Input</th><td><pre>{{.Input}}</pre></td></tr>
<tr><th scope="row">Output</th><td><pre>{{.Output}}</pre></td></tr>
<tr><th scope="row">Expected</th><td><pre>{{.Expected}}</pre></td></tr></tbody></table></div>
{{end}}
<p class="note">This file is self-contained. Its SHA-256 is what a model approval records.</p>
</body></html>
`))
