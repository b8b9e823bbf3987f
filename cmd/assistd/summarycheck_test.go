package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/summary/grounding"
)

// checkTranscript is a short visit in Finnish with drafts written by
// someone else: a faithful sentence in clinical shorthand, and one that
// turns a denial into a finding and changes the dose.
const checkRequest = `{"lang":"fi",
 "transcript":[
  {"id":"t1","speaker":"lääkäri","text":"Onko rintakipua ollut?"},
  {"id":"t2","speaker":"potilas","text":"Ei ole. Otan Marevania kolme milligrammaa illalla."},
  {"id":"t3","speaker":"lääkäri","text":"Verenpaine on satakolmekymmentä per kahdeksankymmentä."}],
 "draft":[
  {"id":"s1","text":"Ei rintakipua. Varfariini 3 mg x1 illalla.","cites":["t2"]},
  {"id":"s2","text":"RR 130/80."},
  {"id":"s3","text":"Rintakipua, varfariini 5 mg.","cites":["t1","t2"]}]}`

// TestSummaryCheckThroughGateway checks a draft through the running
// gateway (real PostgreSQL audit log; no model is involved), reads the
// task's audit record, and refuses bad input with clear 4xx answers that
// are recorded as refusals.
func TestSummaryCheckThroughGateway(t *testing.T) {
	t.Parallel()
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), auditYAML(t)+"limits:\n  max_body_bytes: 65536\n")
	ctx := context.Background()

	resp := g.do(t, assist.RoleClinician, "POST", "/v1/summaries/check", checkRequest, "Content-Type", "application/json", "X-Sote-Patient", hetuExample)
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("check: %d %s", resp.StatusCode, body)
	}
	var res grounding.Response
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Sentences) != 3 || res.Supported != 2 || res.Unsupported != 1 || res.Catalogue == "" {
		t.Fatalf("verdicts: %s", body)
	}
	s1, s2, s3 := res.Sentences[0], res.Sentences[1], res.Sentences[2]
	if !s1.Supported || !s2.Supported || s3.Supported {
		t.Fatalf("verdicts: %s", body)
	}
	if !s2.Proposed || strings.Join(s2.Cites, ",") != "t3" {
		t.Errorf("a sentence citing nothing gets the best-supporting turn proposed: %+v", s2)
	}
	types := map[grounding.FlagType]bool{}
	for _, f := range s3.Flags {
		types[f.Type] = true
		if f.Evidence == "" {
			t.Errorf("flag without evidence: %+v", f)
		}
	}
	if !types[grounding.FlagNegation] || !types[grounding.FlagDose] {
		t.Errorf("want negation and dose flags, got %+v", s3.Flags)
	}
	seq, err := strconv.ParseInt(resp.Header.Get("X-Sote-Audit-Seq"), 10, 64)
	if err != nil {
		t.Fatalf("no audit sequence header: %v", resp.Header)
	}
	var kind, task, outcome, unsupported, sentences string
	var patient []byte
	if err := g.DB.QueryRow(ctx, `SELECT kind, task, outcome, attrs->>'unsupported', attrs->>'sentences', patient FROM audit_records WHERE seq = $1`, seq).
		Scan(&kind, &task, &outcome, &unsupported, &sentences, &patient); err != nil {
		t.Fatal(err)
	}
	if kind != "summary.check" || task != string(assist.TaskSummary) || outcome != "ok" || unsupported != "1" || sentences != "3" || len(patient) != 32 {
		t.Fatalf("audit record: kind %s task %s outcome %s unsupported %s sentences %s patient %d bytes", kind, task, outcome, unsupported, sentences, len(patient))
	}

	// Roles: interpreters may not; services may.
	if resp := g.do(t, assist.RoleInterpreter, "POST", "/v1/summaries/check", checkRequest); resp.StatusCode != 403 {
		t.Errorf("interpreter: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if resp := g.do(t, assist.RoleService, "POST", "/v1/summaries/check", checkRequest); resp.StatusCode != 200 {
		t.Errorf("service: %d %s", resp.StatusCode, readAll(t, resp))
	}

	var before int
	if err := g.DB.QueryRow(ctx, `SELECT count(*) FROM audit_records WHERE kind = 'summary.check' AND outcome = 'error' AND error_kind IN ('invalid', 'too_large')`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name, body string
		status     int
		kind, msg  string
	}{
		{"empty transcript", `{"lang":"en","transcript":[],"draft":[{"id":"s1","text":"Cough."}]}`, 400, "invalid", "transcript"},
		{"duplicate turn ids", `{"lang":"en","transcript":[{"id":"a","text":"x"},{"id":"a","text":"y"}],"draft":[{"id":"s1","text":"x"}]}`, 400, "invalid", "duplicate turn id"},
		{"duplicate sentence ids", `{"lang":"en","transcript":[{"id":"a","text":"x"}],"draft":[{"id":"s","text":"x"},{"id":"s","text":"y"}]}`, 400, "invalid", "duplicate sentence id"},
		{"unknown lang", `{"lang":"de","transcript":[{"id":"a","text":"x"}],"draft":[{"id":"s","text":"x"}]}`, 400, "invalid", "unknown lang"},
		{"unknown cite", `{"lang":"sv","transcript":[{"id":"a","text":"x"}],"draft":[{"id":"s","text":"x","cites":["b"]}]}`, 400, "invalid", "not a turn id"},
		{"unknown field", `{"lang":"sv","transcripts":[]}`, 400, "invalid", "unknown field"},
		{"not json", `{"lang":`, 400, "invalid", "JSON"},
		{"oversize", `{"lang":"en","transcript":[{"id":"a","text":"` + strings.Repeat("yskä ", 20000) + `"}],"draft":[{"id":"s","text":"x"}]}`, 413, "too_large", "limit"},
	}
	for _, tc := range bad {
		resp := g.do(t, assist.RoleClinician, "POST", "/v1/summaries/check", tc.body, "Content-Type", "application/json")
		b := readAll(t, resp)
		var eb struct {
			Error struct{ Kind, Message string }
		}
		_ = json.Unmarshal([]byte(b), &eb)
		if resp.StatusCode != tc.status || eb.Error.Kind != tc.kind || !strings.Contains(eb.Error.Message, tc.msg) {
			t.Errorf("%s: got %d %s", tc.name, resp.StatusCode, b)
		}
		if strings.Contains(b, "yskä") {
			t.Errorf("%s: the error quotes the input", tc.name)
		}
	}
	var after int
	if err := g.DB.QueryRow(ctx, `SELECT count(*) FROM audit_records WHERE kind = 'summary.check' AND outcome = 'error' AND error_kind IN ('invalid', 'too_large')`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after-before != len(bad) {
		t.Errorf("refusals recorded: %d, want %d", after-before, len(bad))
	}
}
