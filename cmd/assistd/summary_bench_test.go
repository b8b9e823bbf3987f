package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/summary"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// BenchmarkSummaryMapReduceHosts summarises the longest ACI-Bench visit
// of the test data with a small context (so it is map-reduced over about
// six segments, up to four map steps at once) through a gateway with one
// model host and through one with two, alternating, each host serving one
// request at a time. It reports both times and the speed-up.
func BenchmarkSummaryMapReduceHosts(b *testing.B) {
	s1 := ollamatest.Start(b, "OLLAMA_NUM_PARALLEL=1")
	s2 := ollamatest.Start(b, "OLLAMA_NUM_PARALLEL=1")
	extra := "models:\n  chat: " + testModel() + "\nsummary:\n  num_ctx: 1536\n  num_predict: 256\n  max_parallel: 4\n" +
		"queues:\n  interactive: {limit: 256, timeout: 5m}\n"
	one := startGateway(b, hostYAML("s1", s1.URL, 1), extra)
	two := startGateway(b, hostYAML("s1", s1.URL, 1)+hostYAML("s2", s2.URL, 1), extra)
	body := aciVisit(b)
	run := func(g *gateway) (time.Duration, int) {
		t0 := time.Now()
		resp := g.do(b, assist.RoleClinician, "POST", "/v1/summaries", body)
		out := readAll(b, resp)
		if resp.StatusCode != 200 {
			b.Fatalf("%d %s", resp.StatusCode, out)
		}
		var d summary.Draft
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0), d.Segments
	}
	// Warm both hosts (the model loads on first use).
	run(two)
	run(two)
	var tOne, tTwo time.Duration
	segs := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			d, n := run(one)
			tOne += d
			d, _ = run(two)
			tTwo += d
			segs = n
		} else {
			d, _ := run(two)
			tTwo += d
			d, n := run(one)
			tOne += d
			segs = n
		}
	}
	b.ReportMetric(float64(tOne.Milliseconds())/float64(b.N), "ms_one_host")
	b.ReportMetric(float64(tTwo.Milliseconds())/float64(b.N), "ms_two_hosts")
	b.ReportMetric(float64(tOne)/float64(tTwo), "speedup")
	b.ReportMetric(float64(segs), "segments")
}
