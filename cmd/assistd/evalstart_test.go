package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
)

// TestEvalRunInGateway starts built-in suites through the review API: they
// run in the gateway's own host pool at batch priority, every model call
// audited as the reviewer who started them.
func TestEvalRunInGateway(t *testing.T) {
	g := startGateway(t, hostYAML("local", ollamaURL(t), 4), auditYAML(t))
	start := func(body string) (int, string) {
		resp := g.do(t, assist.RoleRiskReviewer, "POST", "/v1/evals/runs", body)
		out := readAll(t, resp)
		var r struct{ Run struct{ ID string } }
		_ = json.Unmarshal([]byte(out), &r)
		return resp.StatusCode, r.Run.ID
	}
	wait := func(id string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var run map[string]any
			jsonGet(t, g, assist.RoleRiskReviewer, "/v1/evals/runs/"+id, &run)
			if run["status"] != "running" || time.Now().After(deadline) {
				return run
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	code, id := start(`{"suite":"risk"}`)
	if code != http.StatusAccepted || id == "" {
		t.Fatalf("start risk suite: %d %q", code, id)
	}
	if run := wait(id); run["status"] != "done" || run["summary"].(map[string]any)["pass"] != true {
		t.Fatalf("risk run %v", run["status"])
	}
	code, id = start(`{"suite":"translation-news","model":"` + testModel() + `"}`)
	if code != http.StatusAccepted {
		t.Fatalf("start translation suite: %d", code)
	}
	run := wait(id)
	if run["status"] != "done" {
		t.Fatalf("translation run %v", run["status"])
	}
	var n int
	_ = g.DB.QueryRow(context.Background(), `SELECT count(*) FROM audit_records WHERE kind = 'ai.output' AND attrs->>'eval.suite' = 'translation-news'
		AND actor_role = 'risk_reviewer' AND task = 'interpretation'`).Scan(&n)
	if n != 24 {
		t.Errorf("%d audited evaluation calls, want 24", n)
	}
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"suite":"../../etc/passwd.yaml"}`, http.StatusNotFound},
		{`{"suite":"translation-news"}`, http.StatusBadRequest},
		{`{"suite":"translation-news","model":"no-such-model"}`, http.StatusNotFound},
		{`{"suite":"risk","extra":1}`, http.StatusBadRequest},
	} {
		if code, _ := start(tc.body); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.body, code, tc.want)
		}
	}
	if r := g.do(t, assist.RoleClinician, "POST", "/v1/evals/runs", `{"suite":"risk"}`); r.StatusCode != http.StatusForbidden {
		t.Errorf("clinician started a run: %d", r.StatusCode)
	}
	var suites struct{ Suites []struct{ Name string } }
	jsonGet(t, g, assist.RoleRiskReviewer, "/v1/evals/suites", &suites)
	if len(suites.Suites) < 5 {
		t.Errorf("suites %+v", suites)
	}
}
