package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist/golden"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
)

// fixture is a finished run of the built-in translation-clinic suite with
// made-up results (no model involved), fixed in time.
func fixture(t *testing.T, id, digest string, worse bool) (runner.Run, []runner.Result) {
	t.Helper()
	s, err := suite.Open("translation-clinic")
	if err != nil {
		t.Fatal(err)
	}
	s.DatasetHash = "d4a7"
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	finished := created.Add(3 * time.Minute)
	run := runner.Run{ID: id, Suite: s.Name, SuiteHash: s.Hash, Task: s.Task, Qualifies: s.Qualifies,
		Model: runner.Model{Name: "tiny:latest", Digest: digest}, DatasetHash: s.DatasetHash, CodeVersion: "abc123def456",
		Cases: 6, Status: runner.StatusDone, Definition: s, CreatedBy: "cli:reviewer", Created: created, Finished: &finished}
	var res []runner.Result
	for i, c := range []struct{ id, cat, out string }{
		{"c1", "en-so", "muddo intee ayay socdeen?"}, {"c2", "en-so", "<b>qandho</b> & xanuun"},
		{"c3", "en-ar", "منذ متى"}, {"c4", "en-ar", "ألم في الصدر"}, {"c5", "en-so", ""}, {"c6", "en-ar", "x"},
	} {
		ref := []string{"muddo intee dhan ayay calaamadahan socdeen?", "iyo ay weheliso qandho", "منذ متى وهذه الأعراض",
			"ألم في الصدر", "haa", "نعم"}[i]
		out := c.out
		if worse && i%2 == 0 {
			out = "zzz"
		}
		r := runner.Result{RunID: id, CaseID: c.id, Category: c.cat, Input: "source " + c.id, Expected: ref, Output: out,
			Scores: map[string]float64{}, Latency: time.Duration(100+40*i) * time.Millisecond, PromptTokens: 20, OutputTokens: 8,
			ModelDigest: digest, Host: "h1"}
		if c.id == "c5" {
			r.Error, r.Output = "timeout", ""
		}
		for _, m := range s.Metrics {
			v, err := runner.TextScore(m, r.Output, ref)
			if err != nil {
				t.Fatal(err)
			}
			r.Scores[m] = v
		}
		res = append(res, r)
	}
	sum := runner.Summarize(s, res)
	run.Summary = &sum
	return run, res
}

func TestRunReportGolden(t *testing.T) {
	run, res := fixture(t, "run-0000000000a1", "sha256:1111", false)
	// The suite hash depends on the YAML file: keep the golden file
	// independent of edits to the suite's wording.
	run.SuiteHash = "5u173"
	got, err := Run(run, res)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/run_report.html", got)
	again, _ := Run(run, res)
	if !bytes.Equal(got, again) || Hash(got) != Hash(again) {
		t.Error("the same run rendered to different bytes")
	}
	for _, want := range []string{
		"sha256:1111", "abc123def456", "d4a7", "eval.translate@1", "<svg", "p50", "p95",
		"&lt;b&gt;qandho&lt;/b&gt; &amp; xanuun", // output text is escaped
		"model call failed: timeout", "FAIL",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "<b>qandho"} {
		if bad == "http://" && strings.Count(string(got), bad) == strings.Count(string(got), "http://www.w3.org/2000/svg") {
			continue
		}
		if strings.Contains(string(got), bad) {
			t.Errorf("report contains %q (must be self-contained and escaped)", bad)
		}
	}
	unfinished := run
	unfinished.Summary = nil
	if _, err := Run(unfinished, res); err == nil {
		t.Error("a run without summary rendered")
	}
}

func TestCompareReportGolden(t *testing.T) {
	base, br := fixture(t, "run-0000000000a1", "sha256:1111", false)
	cand, cr := fixture(t, "run-0000000000b2", "sha256:2222", true)
	base.SuiteHash, cand.SuiteHash = "5u173", "5u173"
	cmp, err := runner.Compare(base, cand, br, cr)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Compare(base, cand, br, cr, cmp)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/compare_report.html", got)
	for _, want := range []string{"sha256:1111", "sha256:2222", "Baseline output", "zzz", "<svg"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("comparison lacks %q", want)
		}
	}
}
