package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/cmd/assistd/internal/browsertest"
)

// TestReviewPage is the risk reviewer's path in a real browser: sign in,
// open a run's report (the page hashes the bytes it received), compare
// two runs, approve the release with a reason — and the task endpoint,
// locked until then, starts serving.
func TestReviewPage(t *testing.T) {
	base := ollamaURL(t)
	name := fmt.Sprintf("review%d", time.Now().UnixNano()%1_000_000)
	d1 := createModel(t, base, name, "You summarise.", nil)
	g := startGateway(t, hostYAML("local", base, 4), auditYAML(t)+
		"models:\n  chat: "+name+"\nreleases:\n  enforce: [risk_summary]\n  cache_ttl: 100ms\nhealth:\n  interval: 200ms\n")
	if k := riskSummaryKind(t, g); k != "unavailable" {
		t.Fatalf("before approval the summary error is %q, want unavailable", k)
	}
	first := evalRun(t, g, name+":latest", d1)
	second := evalRun(t, g, name+":latest", d1)

	resp := g.do(t, "", "GET", "/ui/review/", "")
	if body := readAll(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "approve-form") {
		t.Fatalf("GET /ui/review/: %d", resp.StatusCode)
	}

	b := browsertest.New(t, browsertest.Options{})
	b.Navigate(g.URL + "/ui/review/")
	b.WaitVisible("#token-form")
	b.SetValue("#ui-lang", "fi")
	if got := b.Text("h1"); got != "Mallien arviointi ja hyväksyntä" {
		t.Errorf("Finnish title = %q", got)
	}
	b.SetValue("#ui-lang", "en")
	b.SetValue("#token", g.Tokens[assist.RoleRiskReviewer])
	b.Click("#token-form button")
	b.WaitVisible("#run-" + first.ID)
	b.WaitVisible("#run-" + second.ID)

	// Start the built-in risk suite from the page; it runs in the gateway.
	b.SetValue("#start-suite", "risk")
	b.Click("#start")
	if !b.WaitFor(`document.querySelector("#start-result").textContent.includes("run-")`, 20*time.Second) {
		t.Fatalf("run not started: %s", b.Text("body"))
	}
	started := strings.TrimSpace(strings.SplitN(b.Text("#start-result"), ":", 2)[1])
	if !b.WaitFor(`document.querySelector("#run-`+started+`")`, 10*time.Second) {
		t.Errorf("started run %s not listed", started)
	}

	// Open the first run's report: its hash is the server's.
	b.Click(fmt.Sprintf(`button.open-report[data-run="%s"]`, first.ID))
	b.WaitVisible("#report-view svg")
	shown := b.Text("#report-hash")
	r := g.do(t, assist.RoleRiskReviewer, "GET", "/v1/evals/runs/"+first.ID+"/report", "")
	readAll(t, r)
	if want := r.Header.Get("X-Report-SHA256"); shown != want || len(shown) != 64 {
		t.Errorf("page hash %q, server %q", shown, want)
	}
	if !strings.Contains(b.Text("#report-view"), d1) {
		t.Error("the report shown lacks the model digest")
	}

	// Compare the two runs of the same release: no regression.
	b.Click(fmt.Sprintf(`input[name=baseline][value="%s"]`, first.ID))
	b.Click(fmt.Sprintf(`input[name=candidate][value="%s"]`, second.ID))
	b.Click("#compare")
	b.WaitVisible("#comparison")
	if got := b.Text("#cmp-verdict"); !strings.Contains(got, "No regression") {
		t.Errorf("comparison verdict %q", got)
	}

	// Approve with a reason.
	b.Type("#approve-reason", "Consistency suite passed; risk group meeting 3/2026.")
	b.Click("#approve")
	if !b.WaitFor(`document.querySelector("#releases tr[data-status=approved]")`, 20*time.Second) {
		b.Screenshot("failure-approve")
		t.Fatalf("no approved release shown; error: %s", b.Text("body"))
	}
	b.Screenshot("approved")

	// The task endpoint serves now, with the approved release.
	if k := riskSummaryKind(t, g); k == "unavailable" || k == "conflict" {
		t.Fatalf("after approval in the page the summary error is %q", k)
	}
	var n int
	_ = g.DB.QueryRow(t.Context(), `SELECT count(*) FROM audit_records WHERE kind = 'model.approval' AND task = 'risk_summary'
		AND model_digest = $1 AND attrs->>'report_sha256' = $2 AND actor_role = 'risk_reviewer'`, d1, shown).Scan(&n)
	if n != 1 {
		t.Errorf("%d approval records signed with the page's hash, want 1", n)
	}
}
