package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/evals/pgstore"
	"github.com/soteai/gateway/evals/report"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/ollama"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// createModel makes (or re-makes) model name on the stack's Ollama from
// the tiny test model with its own system prompt and parameters; each
// version has a new digest behind the same name. It returns the digest.
func createModel(t testing.TB, base, name, system string, params map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": name, "from": ollamatest.Model(t), "system": system, "parameters": params, "stream": false})
	resp, err := http.Post(base+"/api/create", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create %s: %d", name, resp.StatusCode)
	}
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, base+"/api/delete", strings.NewReader(`{"model":"`+name+`"}`))
		if r, err := http.DefaultClient.Do(req); err == nil {
			r.Body.Close()
		}
	})
	r2, err := http.Get(base + "/api/tags")
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Body.Close()
	var tags struct {
		Models []struct{ Name, Digest string }
	}
	_ = json.NewDecoder(r2.Body).Decode(&tags)
	for _, m := range tags.Models {
		if m.Name == name+":latest" {
			return m.Digest
		}
	}
	t.Fatalf("model %s not listed after create", name)
	return ""
}

// evalGen runs an evaluation's calls through the (unaudited here) model
// call, pinned to a digest.
type evalGen struct {
	rec    *record.Recorder
	digest string
}

func (g evalGen) Generate(ctx context.Context, req runner.GenRequest) (runner.GenResult, error) {
	res, err := g.rec.Generate(ctx, record.Call{Task: req.Task, Priority: req.Priority, System: req.System, Prompt: req.Prompt,
		Options: req.Options, Model: &record.Model{Name: req.Model, Digest: g.digest}, Attrs: req.Attrs})
	if err != nil {
		return runner.GenResult{}, err
	}
	return runner.GenResult{Text: res.Text, Model: runner.Model{Name: res.Model.Name, Digest: res.Model.Digest}, Host: res.Host,
		PromptTokens: res.PromptTokens, OutputTokens: res.OutputTokens}, nil
}

const summarySuite = `name: test-risk-summary
version: 1
task: translation
qualifies: risk_summary
description: Test suite (nonsense model output) whose runs qualify a model for risk summaries.
dataset: {path: cases.jsonl}
prompt: {id: eval.test, version: "1", template: "Say: {{.text}}"}
options: {temperature: 0, seed: 1, num_predict: 6}
metrics: [chrf++]
thresholds: [{metric: chrf++, min: 0}]
gates: [{metric: chrf++, max_drop: 1}]
`

// evalRun runs a three-case suite that qualifies models for risk
// summaries against model@digest on the real Ollama, into the gateway's
// database, and returns the finished run.
func evalRun(t *testing.T, g *gateway, model, digest string) runner.Run {
	t.Helper()
	dir := t.TempDir()
	var cases strings.Builder
	for i, txt := range []string{"blood pressure", "kidney function", "fall risk"} {
		fmt.Fprintf(&cases, `{"id":"s%d","task":"translation","input":{"text":%q},"expected":{"text":%q},"tags":["t%d"]}`+"\n", i, txt, txt, i%2)
	}
	_ = os.WriteFile(filepath.Join(dir, "cases.jsonl"), []byte(cases.String()), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(summarySuite), 0o644)
	s, err := suite.Open(filepath.Join(dir, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := s.LoadCases("", "")
	if err != nil {
		t.Fatal(err)
	}
	oc := ollama.NewClient(ollama.HTTPOptions{})
	pool := models.NewPool([]models.HostConfig{{Name: "a", URL: ollamaURL(t)}}, oc, models.Options{}, nil)
	pool.CheckNow(context.Background())
	rec := record.New(record.Deps{Models: record.Ollama{Svc: &ollama.Service{Pool: pool, Client: oc}}})
	st := pgstore.New(g.DB)
	r := &runner.Runner{Store: st}
	m := runner.Model{Name: model, Digest: digest}
	run, _, err := r.Start(context.Background(), s, cs, m, true, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Execute(context.Background(), run, cs, &runner.TextExecutor{Suite: s, Gen: evalGen{rec, digest}, Model: model}); err != nil {
		t.Fatal(err)
	}
	run, err = st.GetRun(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// riskSummaryKind asks for a medication risk assessment with an AI
// summary and returns the summary's error kind ("" when one was given).
func riskSummaryKind(t *testing.T, g *gateway) string {
	t.Helper()
	body := `{"drugs":[{"name":"Marevan 3 mg"},{"name":"Burana 400 mg"}],"patient":{"age":78,"sex":"female","egfr":55}}`
	resp := g.do(t, assist.RoleClinician, "POST", "/v1/risk/assess?summary=true&lang=en", body)
	out := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("risk assess: %d %s", resp.StatusCode, out)
	}
	var r struct {
		Summary      *json.RawMessage       `json:"summary"`
		SummaryError *struct{ Kind string } `json:"summary_error"`
	}
	_ = json.Unmarshal([]byte(out), &r)
	if r.SummaryError != nil {
		return r.SummaryError.Kind
	}
	return ""
}

func jsonGet(t *testing.T, g *gateway, role assist.Role, path string, v any) {
	t.Helper()
	resp := g.do(t, role, "GET", path, "")
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// TestReleaseApprovalUnlocksAndDigestChangeLocks: with enforcement on for
// risk summaries, the task is refused until a reviewer approves the
// release an evaluation run tested; a model re-created behind the same
// name (new digest) is then not used for the task, and that is audited
// and visible in /metrics and /v1/admin/hosts.
func TestReleaseApprovalUnlocksAndDigestChangeLocks(t *testing.T) {
	base := ollamaURL(t)
	name := fmt.Sprintf("relsum%d", time.Now().UnixNano()%1_000_000)
	d1 := createModel(t, base, name, "You summarise.", nil)
	g := startGateway(t, hostYAML("local", base, 4), auditYAML(t)+
		"models:\n  chat: "+name+"\nreleases:\n  enforce: [risk_summary]\n  cache_ttl: 100ms\nhealth:\n  interval: 200ms\n")

	// Locked: no approved release.
	if k := riskSummaryKind(t, g); k != "unavailable" {
		t.Fatalf("before approval the summary error is %q, want unavailable", k)
	}
	run := evalRun(t, g, name+":latest", d1)
	if run.Summary == nil || !run.Summary.Pass || run.Qualifies != assist.TaskRiskSummary {
		t.Fatalf("evaluation run %+v", run)
	}
	// The reviewer reads the report; its hash is what the approval signs.
	resp := g.do(t, assist.RoleRiskReviewer, "GET", "/v1/evals/runs/"+run.ID+"/report", "")
	html := readAll(t, resp)
	hash := resp.Header.Get("X-Report-SHA256")
	if resp.StatusCode != http.StatusOK || hash != report.Hash([]byte(html)) || !strings.Contains(html, d1) {
		t.Fatalf("report: %d hash %q", resp.StatusCode, hash)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("report CSP %q", csp)
	}
	// Clinicians cannot approve; a wrong hash or a missing reason is refused.
	approveBody := func(h, reason string) string {
		b, _ := json.Marshal(map[string]string{"task": "risk_summary", "run_id": run.ID, "report_sha256": h, "reason": reason})
		return string(b)
	}
	if r := g.do(t, assist.RoleClinician, "POST", "/v1/releases/approve", approveBody(hash, "ok")); r.StatusCode != http.StatusForbidden {
		t.Errorf("clinician approval: %d", r.StatusCode)
	}
	if r := g.do(t, assist.RoleRiskReviewer, "POST", "/v1/releases/approve", approveBody(strings.Repeat("0", 64), "ok")); r.StatusCode != http.StatusConflict {
		t.Errorf("approval with another report's hash: %d", r.StatusCode)
	}
	if r := g.do(t, assist.RoleRiskReviewer, "POST", "/v1/releases/approve", approveBody(hash, " ")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("approval without a reason: %d", r.StatusCode)
	}
	r := g.do(t, assist.RoleRiskReviewer, "POST", "/v1/releases/approve", approveBody(hash, "Consistency suite passed; group decision 2026-03-01."))
	if body := readAll(t, r); r.StatusCode != http.StatusCreated {
		t.Fatalf("approval: %d %s", r.StatusCode, body)
	}
	var seq int64
	if err := g.DB.QueryRow(context.Background(), `SELECT seq FROM audit_records WHERE kind = 'model.approval' AND model_digest = $1
		AND attrs->>'decision' = 'approved' AND attrs->>'report_sha256' = $2 AND task = 'risk_summary'`, d1, hash).Scan(&seq); err != nil {
		t.Fatalf("approval audit record: %v", err)
	}

	// Unlocked: the summary is asked of the approved release (the test
	// model's nonsense then fails the summary check, but the call is made
	// and audited with the approved digest).
	if k := riskSummaryKind(t, g); k == "unavailable" || k == "conflict" {
		t.Fatalf("after approval the summary error is %q", k)
	}
	var n int
	_ = g.DB.QueryRow(context.Background(), `SELECT count(*) FROM audit_records WHERE kind = 'ai.output' AND task = 'risk_summary' AND model_digest = $1`, d1).Scan(&n)
	if n == 0 {
		t.Fatal("no audited risk summary call with the approved digest")
	}

	// The model is re-created behind the same name: a new digest.
	d2 := createModel(t, base, name, "You summarise differently.", map[string]any{"temperature": 0.5})
	if d2 == d1 {
		t.Fatal("re-created model kept its digest")
	}
	var hosts struct {
		Mismatches []struct{ Task, Host, Model, Digest, Release string } `json:"release_mismatches"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		jsonGet(t, g, assist.RoleAdmin, "/v1/admin/hosts", &hosts)
		if len(hosts.Mismatches) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(hosts.Mismatches) != 1 || hosts.Mismatches[0].Host != "local" || hosts.Mismatches[0].Digest != d2 || hosts.Mismatches[0].Release != d1 {
		t.Fatalf("admin hosts mismatches %+v", hosts.Mismatches)
	}
	if k := riskSummaryKind(t, g); k != "conflict" && k != "unavailable" {
		t.Errorf("after the digest changed the summary error is %q, want the task locked", k)
	}
	metricsBody := readAll(t, g.do(t, "", "GET", "/metrics", ""))
	if !strings.Contains(metricsBody, `assist_model_release_mismatch{host="local",model="`+name+`:latest",task="risk_summary"} 1`) {
		t.Errorf("metrics lack the mismatch:\n%s", grepLines(metricsBody, "release_mismatch"))
	}
	_ = g.DB.QueryRow(context.Background(), `SELECT count(*) FROM audit_records WHERE kind = 'model.release_mismatch' AND host = 'local'
		AND model_digest = $1 AND attrs->>'approved_digest' = $2`, d2, d1).Scan(&n)
	if n != 1 {
		t.Errorf("%d audited mismatch records, want 1", n)
	}
	// No output of the new digest was released for the task.
	_ = g.DB.QueryRow(context.Background(), `SELECT count(*) FROM audit_records WHERE kind = 'ai.output' AND task = 'risk_summary'
		AND model_digest = $1 AND outcome = 'ok'`, d2).Scan(&n)
	if n != 0 {
		t.Errorf("%d risk summaries released from the unapproved digest", n)
	}

	// Withdrawal locks the task as well, and is audited.
	var list struct {
		Releases []struct {
			ID     int64
			Status string
			Digest string
		}
	}
	jsonGet(t, g, assist.RoleRiskReviewer, "/v1/releases", &list)
	if len(list.Releases) != 1 || list.Releases[0].Status != "approved" {
		t.Fatalf("releases %+v", list.Releases)
	}
	wr := g.do(t, assist.RoleRiskReviewer, "POST", fmt.Sprintf("/v1/releases/%d/withdraw", list.Releases[0].ID), `{"reason":"model changed on the host"}`)
	if body := readAll(t, wr); wr.StatusCode != http.StatusOK {
		t.Fatalf("withdraw: %d %s", wr.StatusCode, body)
	}
	if k := riskSummaryKind(t, g); k != "unavailable" {
		t.Errorf("after withdrawal the summary error is %q, want unavailable", k)
	}
	_ = g.DB.QueryRow(context.Background(), `SELECT count(*) FROM audit_records WHERE kind = 'model.approval' AND attrs->>'decision' = 'withdrawn'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d withdrawal records", n)
	}
}
