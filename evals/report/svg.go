package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/runner"
)

// The charts are plain SVG strings built here with every text escaped.

const (
	chartW    = 640
	labelW    = 170
	rowH      = 22
	barColour = "#0969da"
	badColour = "#a40e26"
)

func esc(s string) string { return html.EscapeString(s) }

// scaleMax is the axis maximum of a metric: 1 for 0–1 metrics, else the
// larger of 100 and the highest value.
func scaleMax(metric string, vals ...float64) float64 {
	hi := 0.0
	for _, v := range vals {
		hi = max(hi, v)
	}
	switch metric {
	case "precision", "recall", "f1", "recall@k", "mrr":
		return max(1, hi)
	}
	return max(100, hi)
}

// intervalChart draws one row per label: a bar to the mean and a whisker
// from low to high.
func intervalChart(title, metric string, labels []string, ivs []evals.Interval, counts []int) string {
	var vals []float64
	for _, iv := range ivs {
		vals = append(vals, iv.High)
	}
	top := scaleMax(metric, vals...)
	plotW := float64(chartW - labelW - 60)
	x := func(v float64) float64 { return labelW + plotW*math.Max(0, v)/top }
	h := rowH*len(labels) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		esc(title), chartW, h, chartW, h)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	for i, l := range labels {
		y := 10 + i*rowH
		iv := ivs[i]
		label := l
		if counts != nil {
			label = fmt.Sprintf("%s (n=%d)", l, counts[i])
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+14, esc(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s" opacity="0.75"/>`, labelW, y+4, x(iv.Mean)-labelW, rowH-8, barColour)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#1b1f24" stroke-width="1.5"/>`, x(iv.Low), x(iv.High), y+11, y+11)
		for _, e := range []float64{iv.Low, iv.High} {
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#1b1f24" stroke-width="1.5"/>`, x(e), x(e), y+6, y+16)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`, x(iv.High)+4, y+14, esc(fmtNum(iv.Mean)))
	}
	axisY := 10 + len(labels)*rowH + 4
	fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%d" y2="%d" stroke="#57606a"/>`, labelW, labelW+plotW, axisY, axisY)
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 1} {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#57606a">%s</text>`, x(f*top), axisY+16, esc(trimNum(f*top)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func trimNum(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// categoryChart draws, per metric, the mean and interval per category.
func categoryChart(metrics []string, s runner.Summary) template.HTML {
	cats := sortedKeys(s.Categories)
	var b strings.Builder
	for _, m := range metrics {
		var ivs []evals.Interval
		var counts []int
		for _, c := range cats {
			ivs = append(ivs, s.Categories[c][m])
			counts = append(counts, s.CategoryCases[c])
		}
		labels := append([]string{"all cases"}, cats...)
		ivs = append([]evals.Interval{s.Metrics[m]}, ivs...)
		counts = append([]int{s.Cases}, counts...)
		fmt.Fprintf(&b, `<figure><figcaption>%s (%s), mean and 95%% interval</figcaption>`, esc(m), esc(direction(m)))
		b.WriteString(intervalChart(m+" per category", m, labels, ivs, counts))
		b.WriteString(`</figure>`)
	}
	return template.HTML(b.String()) // #nosec: every text above is escaped
}

// latencyChart is a histogram of per-case latency with p50 and p95 marks.
func latencyChart(results []runner.Result, s runner.Summary) template.HTML {
	if len(results) == 0 {
		return ""
	}
	var ms []float64
	hi := 0.0
	for _, r := range results {
		v := float64(r.Latency) / float64(time.Millisecond)
		ms = append(ms, v)
		hi = max(hi, v)
	}
	const bins = 20
	if hi <= 0 {
		hi = 1
	}
	width := hi / bins
	counts := make([]int, bins)
	top := 0
	for _, v := range ms {
		i := min(int(v/width), bins-1)
		counts[i]++
		top = max(top, counts[i])
	}
	const w, h, left, bottom = chartW, 200, 40, 30
	plotW, plotH := float64(w-left-10), float64(h-bottom-10)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg role="img" aria-label="latency distribution" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg"><title>Latency per case (ms)</title>`, w, h, w, h)
	bw := plotW / bins
	for i, c := range counts {
		bh := plotH * float64(c) / float64(top)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" opacity="0.75"><title>%s–%s ms: %d</title></rect>`,
			float64(left)+float64(i)*bw, 10+plotH-bh, bw-1, bh, barColour, esc(trimNum(float64(i)*width)), esc(trimNum(float64(i+1)*width)), c)
	}
	x := func(v float64) float64 { return float64(left) + plotW*v/hi }
	for _, mk := range []struct {
		name string
		v    float64
	}{{"p50", s.LatencyP50}, {"p95", s.LatencyP95}} {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="10" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/><text x="%.1f" y="22" fill="%s">%s</text>`,
			x(mk.v), x(mk.v), 10+plotH, badColour, x(mk.v)+3, badColour, mk.name)
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#57606a"/>`, left, float64(left)+plotW, 10+plotH, 10+plotH)
	for _, f := range []float64{0, 0.5, 1} {
		anchor := map[float64]string{0: "start", 0.5: "middle", 1: "end"}[f]
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="#57606a">%s ms</text>`, x(f*hi), 10+plotH+18, anchor, esc(trimNum(f*hi)))
	}
	fmt.Fprintf(&b, `<text x="4" y="20" fill="#57606a">%d</text>`, top)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: escaped above
}

// deltaChart is a forest plot of the per-metric paired differences
// (candidate − baseline), drawn so that right is better.
func deltaChart(ms []runner.MetricCompare) template.HTML {
	var lo, hi float64
	for _, m := range ms {
		d := m.Paired.Delta
		lo = min(lo, d.Low, -d.High)
		hi = max(hi, d.High, -d.Low)
	}
	span := max(math.Abs(lo), math.Abs(hi), 1e-9)
	plotW := float64(chartW - labelW - 60)
	mid := float64(labelW) + plotW/2
	x := func(v float64) float64 { return mid + plotW/2*v/span }
	h := rowH*len(ms) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg role="img" aria-label="differences per metric" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg"><title>Candidate minus baseline, 95%% paired interval (right is better)</title>`, chartW, h, chartW, h)
	for i, m := range ms {
		y := 10 + i*rowH
		d := m.Paired.Delta
		lo, mean, hi := d.Low, d.Mean, d.High
		if !m.HigherBetter {
			lo, mean, hi = -d.High, -d.Mean, -d.Low
		}
		colour := barColour
		if hi < 0 {
			colour = badColour
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+14, esc(m.Metric))
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>`, x(lo), x(hi), y+11, y+11, colour)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="4" fill="%s"/>`, x(mean), y+11, colour)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s (p=%s)</text>`, max(x(hi), x(lo))+6, y+14, esc(fmt.Sprintf("%+.3g", d.Mean)), esc(fmt.Sprintf("%.3g", m.Paired.P)))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="6" y2="%d" stroke="#57606a" stroke-dasharray="3 3"/>`, mid, mid, h-30)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#57606a">worse ← 0 → better</text>`, mid, h-10)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: escaped above
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
