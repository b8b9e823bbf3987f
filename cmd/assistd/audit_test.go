package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

func TestAuditFailClosedAndRecovers(t *testing.T) {
	ay := auditYAML(t)
	// The gateway reaches the database through a proxy the test can cut.
	u, err := url.Parse(startDBURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.NewProxy(t, u.Host)
	g := startGatewayWithDB(t, u, proxy.Addr(), hostYAML("h1", ollamaURL(t), 4), ay+"database:\n  max_conns: 8\n")
	ctx := context.Background()

	gen := func(stream bool) (int, string) {
		body := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":%v,"options":{"num_predict":6}}`, testModel(), promptMarker, stream)
		resp := g.do(t, assist.RoleClinician, "POST", "/api/generate", body, "X-Sote-Patient", hetuExample)
		return resp.StatusCode, readAll(t, resp)
	}
	served := 0
	for _, stream := range []bool{false, true, false, true} {
		status, body := gen(stream)
		if status != 200 || !strings.Contains(body, `"done":true`) {
			t.Fatalf("before the outage: %d %s", status, body)
		}
		served++
	}

	proxy.Stop()
	for _, stream := range []bool{false, true, false} {
		status, body := gen(stream)
		if status != 503 || !strings.Contains(body, `"kind":"unavailable"`) || strings.Contains(body, `"response"`) {
			t.Fatalf("during the outage: want 503 unavailable and no output, got %d %s", status, body)
		}
	}

	proxy.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := gen(false)
		if status == 200 {
			served++
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not recover after the database returned: %d %s", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	status, body := gen(true)
	if status != 200 || !strings.Contains(body, `"done":true`) {
		t.Fatalf("stream after recovery: %d %s", status, body)
	}
	served++

	// Every served answer has its record; streams have start and end.
	var outputs, starts, ends int
	err = g.DB.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'ai.output' AND outcome = 'ok'),
		count(*) FILTER (WHERE kind = 'ai.stream.start'), count(*) FILTER (WHERE kind = 'ai.stream.end' AND outcome = 'ok')
		FROM audit_records`).Scan(&outputs, &starts, &ends)
	if err != nil {
		t.Fatal(err)
	}
	if outputs+ends != served || starts != ends {
		t.Fatalf("records: %d outputs, %d stream starts, %d stream ends for %d served answers", outputs, starts, ends, served)
	}
	var clear int
	if err := g.DB.QueryRow(ctx, `SELECT count(*) FROM audit_records WHERE patient IS NULL`).Scan(&clear); err != nil {
		t.Fatal(err)
	}
	if clear != 0 {
		t.Fatalf("%d records lack the patient pseudonym", clear)
	}
	rep, err := audit.VerifyDB(ctx, g.DB, audit.VerifyOptions{PublicKey: auditPublicKey(t, ay)})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("the live audit log does not verify: %v", rep.Findings)
	}
}

// TestAuditReviewThroughGateway links a clinician's review to an answer by
// the record number the gateway returned, and lets a risk reviewer find it
// by patient with an inclusion proof.
func TestAuditReviewThroughGateway(t *testing.T) {
	ay := auditYAML(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), ay)
	body := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":4}}`, testModel(), promptMarker)
	resp := g.do(t, assist.RoleClinician, "POST", "/api/generate", body, "X-Sote-Patient", hetuExample)
	readAll(t, resp)
	seq := resp.Header.Get("X-Sote-Audit-Seq")
	if resp.StatusCode != 200 || seq == "" {
		t.Fatalf("answer: %d, audit seq %q", resp.StatusCode, seq)
	}
	resp = g.do(t, assist.RoleClinician, "POST", "/v1/audit/records/"+seq+"/review", `{"outcome":"edited","edited_text":"Korjattu luonnos.","reason":"incomplete"}`)
	if b := readAll(t, resp); resp.StatusCode != 201 || !strings.Contains(b, `"relates_to":`+seq) {
		t.Fatalf("review: %d %s", resp.StatusCode, b)
	}
	resp = g.do(t, assist.RoleClinician, "GET", "/v1/audit/records/"+seq, "")
	if b := readAll(t, resp); resp.StatusCode != 403 {
		t.Fatalf("a clinician reading the audit log: %d %s", resp.StatusCode, b)
	}
	resp = g.do(t, assist.RoleRiskReviewer, "GET", "/v1/audit/records/"+seq, "")
	if b := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(b, `"proof"`) || strings.Contains(b, hetuExample) {
		t.Fatalf("record with proof: %d %s", resp.StatusCode, b)
	}
	// Without the header, an identity code in the prompt links the record.
	inPrompt := fmt.Sprintf(`{"model":%q,"prompt":"Potilas %s: %s","stream":false,"options":{"num_predict":4}}`, testModel(), hetuExample, promptMarker)
	resp = g.do(t, assist.RoleClinician, "POST", "/api/generate", inPrompt)
	readAll(t, resp)
	seq2 := resp.Header.Get("X-Sote-Audit-Seq")
	resp = g.do(t, assist.RoleRiskReviewer, "POST", "/v1/audit/records/search", `{"patient":"`+hetuExample+`"}`)
	b := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(b, `"seq":`+seq) || !strings.Contains(b, `"seq":`+seq2) || strings.Contains(b, hetuExample) {
		t.Fatalf("search by patient must find both records (%s, %s): %d %s", seq, seq2, resp.StatusCode, b)
	}
	var clear int
	if err := g.DB.QueryRow(context.Background(), `SELECT count(*) FROM audit_records r WHERE r::text LIKE '%' || $1 || '%'`, hetuExample).Scan(&clear); err != nil || clear != 0 {
		t.Fatalf("%d audit rows hold the identity code in clear (%v)", clear, err)
	}
	resp = g.do(t, assist.RoleRiskReviewer, "GET", "/v1/audit/records?patient="+hetuExample, "")
	if b := readAll(t, resp); resp.StatusCode != 400 || strings.Contains(b, hetuExample) {
		t.Fatalf("a patient identifier in a URL must be refused without echoing it: %d %s", resp.StatusCode, b)
	}
}
