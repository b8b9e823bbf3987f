package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/auth/cdsjwt/cdsjwttest"
)

// cdsBaseURL is the external URL the test EHR signs its tokens for.
const cdsBaseURL = "https://gateway.test"

// cdsYAML registers ehr as the gateway's CDS Hooks client.
func cdsYAML(ehr *cdsjwttest.EHR) string {
	return "cds:\n  base_url: " + cdsBaseURL + "\n  clients:\n    - name: ehr-test\n      issuer: " + ehr.Issuer +
		"\n      jwks: '" + string(ehr.JWKS) + "'\n"
}

// TestRiskThroughGateway assesses a medication list and answers a CDS Hooks
// order-sign call through the running gateway, each audited with the
// knowledge-base version; the AI summary runs on the real Ollama.
func TestRiskThroughGateway(t *testing.T) {
	t.Parallel()
	ay := auditYAML(t)
	ehr := cdsjwttest.New(t, "https://ehr.example.org/fhir")
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 2), ay+"models:\n  chat: "+testModel()+"\n"+cdsYAML(ehr))
	ctx := context.Background()
	list := `{"drugs":[{"name":"Eliquis 5 mg"},{"name":"Burana 400 mg"},{"atc":"N05BA04"}],"patient":{"age":82,"egfr":35,"conditions":["I48.9"],"falls":true}}`
	resp := g.do(t, assist.RoleService, "POST", "/v1/risk/assess", list, "X-Sote-Patient", hetuExample)
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `"rule_id":"DDI-BLEED-01"`) {
		t.Fatalf("assess: %d %s", resp.StatusCode, body)
	}
	seq, err := strconv.ParseInt(resp.Header.Get("X-Sote-Audit-Seq"), 10, 64)
	if err != nil {
		t.Fatalf("no audit sequence header: %v", resp.Header)
	}
	var kind, kbVersion string
	var patient []byte
	if err := g.DB.QueryRow(ctx, `SELECT kind, attrs->>'kb_version', patient FROM audit_records WHERE seq = $1`, seq).Scan(&kind, &kbVersion, &patient); err != nil {
		t.Fatal(err)
	}
	if kind != string(audit.KindRiskAssess) || kbVersion == "" || !strings.Contains(body, kbVersion) || len(patient) != 32 {
		t.Fatalf("audit record: kind %s kb %q patient %d bytes", kind, kbVersion, len(patient))
	}

	// The tiny test model writes nonsense: the summary checker must refuse
	// it, and the flags are still returned.
	resp = g.do(t, assist.RoleClinician, "POST", "/v1/risk/assess?summary=true&lang=fi", list)
	body = readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `"summary_error"`) || strings.Contains(body, `"ai_generated":true`) {
		t.Fatalf("summary from a nonsense model must be refused, flags kept: %d %.600s", resp.StatusCode, body)
	}
	// The model's text is an AI output of its own, recorded with the model
	// digest and the caller even though it was withheld.
	var model, digest, role, template string
	err = g.DB.QueryRow(ctx, `SELECT model, model_digest, actor_role, template_id || '@' || template_version FROM audit_records
		WHERE kind = 'ai.output' AND task = 'risk_summary'`).Scan(&model, &digest, &role, &template)
	if err != nil || model == "" || digest == "" || role != string(assist.RoleClinician) || template != "risk-summary@1" {
		t.Fatalf("summary record: %q %q %q %q %v", model, digest, role, template, err)
	}

	resp = g.do(t, assist.RoleService, "GET", "/cds-services", "")
	if body := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(body, `"medication-risk"`) {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	req, err := os.ReadFile("../../risk/cdshooks/testdata/order_sign_request.json")
	if err != nil {
		t.Fatal(err)
	}
	// CDS Hooks calls are signed by the registered EHR (CDS Hooks 2.0 JWT).
	tok := ehr.Token(t, "ES384", cdsBaseURL+"/cds-services/medication-risk")
	resp = g.do(t, "", "POST", "/cds-services/medication-risk", string(req), "Authorization", "Bearer "+tok)
	body = readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `"cards"`) || !strings.Contains(body, `"indicator"`) {
		t.Fatalf("order-sign: %d %s", resp.StatusCode, body)
	}
	seq, err = strconv.ParseInt(resp.Header.Get("X-Sote-Audit-Seq"), 10, 64)
	if err != nil {
		t.Fatalf("no audit sequence header on the CDS call: %v", resp.Header)
	}
	var actor, actorRole string
	if err := g.DB.QueryRow(ctx, `SELECT actor_token_id, actor_role FROM audit_records WHERE seq = $1`, seq).Scan(&actor, &actorRole); err != nil ||
		actor != "cds:ehr-test" || actorRole != string(assist.RoleService) {
		t.Fatalf("CDS call audited as %q/%q: %v", actor, actorRole, err)
	}
	// The same token again is a replay; a gateway bearer token is not a
	// CDS client credential; both get 401 with the JSON error body.
	for _, auth := range []string{"Bearer " + tok, "Bearer " + g.Tokens[assist.RoleService]} {
		resp = g.do(t, "", "POST", "/cds-services/medication-risk", string(req), "Authorization", auth)
		if body := readAll(t, resp); resp.StatusCode != 401 || !strings.Contains(body, `"kind":"unauthorized"`) ||
			!strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("refused CDS call: %d %s", resp.StatusCode, body)
		}
	}
	resp = g.do(t, "", "POST", "/cds-services/medication-risk", `{"hook":"order-sign"`,
		"Authorization", "Bearer "+ehr.Token(t, "RS384", cdsBaseURL+"/cds-services/medication-risk"))
	if body := readAll(t, resp); resp.StatusCode != 400 {
		t.Fatalf("malformed CDS Hooks request: %d %s", resp.StatusCode, body)
	}
	rep, err := audit.VerifyDB(ctx, g.DB, audit.VerifyOptions{PublicKey: auditPublicKey(t, ay)})
	if err != nil || !rep.OK() {
		t.Fatalf("audit log: %v %v", err, rep)
	}
}
