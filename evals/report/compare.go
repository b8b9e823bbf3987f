package report

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/soteai/gateway/evals/runner"
)

type pairView struct {
	ID, Category, Input, Expected string
	BaseOut, CandOut              string
	Base, Cand                    string
}

type compareView struct {
	Base, Cand runner.Run
	Cmp        runner.Comparison
	Chart      template.HTML
	Primary    string
	Worse      []pairView
}

// Compare renders the comparison of two runs with their results.
func Compare(base, cand runner.Run, baseRes, candRes []runner.Result, cmp runner.Comparison) ([]byte, error) {
	if cand.Definition == nil {
		return nil, fmt.Errorf("report.Compare: run %s has no suite definition", cand.ID)
	}
	v := compareView{Base: base, Cand: cand, Cmp: cmp, Chart: deltaChart(cmp.Metrics), Primary: cand.Definition.Primary()}
	bm := map[string]runner.Result{}
	for _, r := range baseRes {
		bm[r.CaseID] = r
	}
	cm := map[string]runner.Result{}
	for _, r := range candRes {
		cm[r.CaseID] = r
	}
	for _, d := range cmp.Worse {
		b, c := bm[d.CaseID], cm[d.CaseID]
		v.Worse = append(v.Worse, pairView{ID: d.CaseID, Category: c.Category, Input: c.Input, Expected: c.Expected,
			BaseOut: b.Output, CandOut: c.Output, Base: fmtNum(d.Baseline), Cand: fmtNum(d.Candidate)})
	}
	var b bytes.Buffer
	if err := compareTmpl.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("report.Compare: %w", err)
	}
	return b.Bytes(), nil
}

var compareTmpl = template.Must(template.New("cmp").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Comparison {{.Base.ID}} → {{.Cand.ID}}: {{.Cand.Suite}}</title>
<style>` + css + `</style></head><body>
<h1>Comparison: {{.Cand.Suite}}</h1>
<p>Result: {{if .Cmp.Pass}}<span class="pass">PASS</span> — no regression gate failed{{else}}<span class="fail">FAIL</span> — a regression gate failed{{end}}; {{.Cmp.Pairs}} paired cases.</p>
<h2>Runs</h2>
<table><thead><tr><th scope="col"></th><th scope="col">Baseline</th><th scope="col">Candidate</th></tr></thead><tbody>
<tr><th scope="row">Run</th><td>{{.Base.ID}}</td><td>{{.Cand.ID}}</td></tr>
<tr><th scope="row">Model</th><td>{{.Base.Model.Name}}</td><td>{{.Cand.Model.Name}}</td></tr>
<tr><th scope="row">Model digest</th><td>{{.Base.Model.Digest}}</td><td>{{.Cand.Model.Digest}}</td></tr>
<tr><th scope="row">Code version</th><td>{{.Base.CodeVersion}}</td><td>{{.Cand.CodeVersion}}</td></tr>
<tr><th scope="row">Dataset SHA-256</th><td colspan="2">{{.Cand.DatasetHash}}</td></tr>
<tr><th scope="row">Suite file SHA-256</th><td colspan="2">{{.Cand.SuiteHash}}</td></tr>
</tbody></table>
<h2>Metrics</h2>
<table><thead><tr><th scope="col">Metric</th><th scope="col">Baseline</th><th scope="col">Candidate</th><th scope="col">Difference</th><th scope="col">95% paired interval</th><th scope="col">p</th></tr></thead><tbody>
{{range .Cmp.Metrics}}<tr><th scope="row">{{.Metric}}</th><td class="num">{{num .Baseline}}</td><td class="num">{{num .Candidate}}</td><td class="num">{{num .Paired.Delta.Mean}}</td><td class="num">[{{num .Paired.Delta.Low}}, {{num .Paired.Delta.High}}]</td><td class="num">{{num .Paired.P}}</td></tr>
{{end}}</tbody></table>
{{.Chart}}
<p class="note">Paired bootstrap over the cases both runs share (1,000 resamples); p is two-sided.</p>
<h2>Regression gates</h2>
<table><thead><tr><th scope="col">Metric</th><th scope="col">Worse by</th><th scope="col">Allowed</th><th scope="col">p</th><th scope="col">Result</th></tr></thead><tbody>
{{range .Cmp.Gates}}<tr><th scope="row">{{.Metric}}</th><td class="num">{{num .Drop}}</td><td class="num">{{num .MaxDrop}}</td><td class="num">{{num .P}}</td><td>{{if .Pass}}<span class="pass">pass</span>{{else}}<span class="fail">FAIL</span>{{end}}</td></tr>
{{end}}</tbody></table>
<h2>Cases that got worse by {{.Primary}}</h2>
{{range .Worse}}<div class="case"><p><strong>{{.ID}}</strong> ({{.Category}}): {{.Base}} → {{.Cand}}</p>
<table><tbody><tr><th scope="row">Input</th><td><pre>{{.Input}}</pre></td></tr>
<tr><th scope="row">Baseline output</th><td><pre>{{.BaseOut}}</pre></td></tr>
<tr><th scope="row">Candidate output</th><td><pre>{{.CandOut}}</pre></td></tr>
<tr><th scope="row">Expected</th><td><pre>{{.Expected}}</pre></td></tr></tbody></table></div>
{{else}}<p>No case got worse.</p>
{{end}}
<p class="note">This file is self-contained. Its SHA-256 identifies what was reviewed.</p>
</body></html>
`))
