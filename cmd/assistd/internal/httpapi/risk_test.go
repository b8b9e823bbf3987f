package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/risk"
)

type fakeSummary struct{ text string }

func (f fakeSummary) Generate(context.Context, string) (string, error) { return f.text, nil }

func TestRiskRoutes(t *testing.T) {
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	bundle := read("../../../../risk/fhirin/testdata/bundle_80f.json")
	cdsReq := read("../../../../risk/cdshooks/testdata/order_sign_request.json")
	const list = `{"drugs":[{"name":"Eliquis 5 mg"},{"name":"Burana 400 mg"}],"patient":{"age":78,"egfr":55,"conditions":["I48.9"],"falls":false}}`

	tests := []struct {
		name        string
		role        assist.Role
		method      string
		target      string
		contentType string
		header      map[string]string
		body        string
		auditErr    error
		summary     risk.Generator
		want        int
		wantBody    []string
		check       func(t *testing.T, a *fakeTaskAuditor, rec *httptest.ResponseRecorder)
	}{
		{name: "assess JSON as clinician", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess",
			header: map[string]string{"X-Sote-Patient": "patient-42"}, body: list, want: 200,
			wantBody: []string{`"rule_id":"DDI-BLEED-01"`, `"kb_version":"` + kb.Version()},
			check: func(t *testing.T, a *fakeTaskAuditor, rec *httptest.ResponseRecorder) {
				if len(a.recs) != 1 {
					t.Fatalf("%d audit records", len(a.recs))
				}
				r := a.recs[0]
				if r.Kind != audit.KindRiskAssess || r.Task != assist.TaskRiskAssess || r.Route != "/v1/risk/assess" ||
					r.PatientRef != "patient-42" || r.Attrs["kb_version"] != kb.Version() || r.Outcome != "ok" || r.Attrs["flags"] != "2" ||
					r.Attrs["high_flags"] != "1" || string(r.Input) != list || r.Output == nil || r.Actor.Role != assist.RoleClinician {
					t.Errorf("audit record %+v", r)
				}
				if strings.TrimSpace(rec.Body.String()) != string(r.Output) {
					t.Error("released bytes differ from the audited output")
				}
				if rec.Header().Get("X-Sote-Audit-Seq") != "1" || rec.Header().Get("X-Sote-Risk-KB") != kb.Version() {
					t.Errorf("headers %v", rec.Header())
				}
			}},
		{name: "assess FHIR bundle", role: assist.RoleService, method: http.MethodPost, target: "/v1/risk/assess",
			contentType: "application/fhir+json", body: bundle, want: 200,
			wantBody: []string{`"skipped":[`, `"DD-HF-01"`, `"egfr_source":"reported"`},
			check: func(t *testing.T, a *fakeTaskAuditor, _ *httptest.ResponseRecorder) {
				if a.recs[0].PatientRef != "pat-1" {
					t.Errorf("patient ref %q", a.recs[0].PatientRef)
				}
			}},
		{name: "assess FHIR bundle sniffed", role: assist.RoleRiskReviewer, method: http.MethodPost, target: "/v1/risk/assess",
			contentType: "application/json", body: bundle, want: 200, wantBody: []string{`"DDI-BLEED-01"`}},
		{name: "assess bad JSON", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess", body: `{"drugs":`, want: 400,
			check: func(t *testing.T, a *fakeTaskAuditor, _ *httptest.ResponseRecorder) {
				if len(a.recs) != 1 || a.recs[0].Outcome != "error" || a.recs[0].ErrorKind != assist.KindInvalid || a.recs[0].Output != nil ||
					a.recs[0].Attrs["kb_version"] != kb.Version() || a.recs[0].Attrs["flags"] != "0" {
					t.Errorf("refusal record %+v", a.recs)
				}
			}},
		{name: "assess unknown field", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess",
			body: `{"drugs":[{"atc":"B01AA03"}],"patient":{"agee":80}}`, want: 400, wantBody: []string{`unknown field`}},
		{name: "assess malformed ATC", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess",
			body: `{"drugs":[{"atc":"B1AA03"}]}`, want: 400, wantBody: []string{`drugs[0].atc`}},
		{name: "assess malformed FHIR", role: assist.RoleService, method: http.MethodPost, target: "/v1/risk/assess", contentType: "application/fhir+json",
			body: `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","valueQuantity":{"value":"x"}}}]}`, want: 400,
			wantBody: []string{`valueQuantity.value must be a number`}},
		{name: "assess bundle without medicines", role: assist.RoleService, method: http.MethodPost, target: "/v1/risk/assess",
			body: `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p"}}]}`, want: 400, wantBody: []string{"no current MedicationRequest"}},
		{name: "assess empty body", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess", body: ``, want: 400},
		{name: "assess as interpreter is forbidden", role: assist.RoleInterpreter, method: http.MethodPost, target: "/v1/risk/assess", body: list, want: 403},
		{name: "assess audit down", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess", body: list,
			auditErr: assist.E(assist.KindUnavailable, "audit.Append", "database down", errors.New("conn refused")), want: 503,
			check: func(_ *testing.T, _ *fakeTaskAuditor, rec *httptest.ResponseRecorder) {
				if strings.Contains(rec.Body.String(), "DDI-BLEED-01") {
					t.Error("flags released although the audit log failed")
				}
			}},
		{name: "assess summary not configured", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess?summary=true", body: list, want: 503},
		{name: "assess with summary", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess?summary=true&lang=en", body: list,
			summary: fakeSummary{"Apixaban with ibuprofen raises bleeding risk [DDI-BLEED-01]; avoid ibuprofen at 78 [PIM-NSAID-01]."}, want: 200,
			wantBody: []string{`"ai_generated":true`, `"label":"AI-generated summary`},
			check: func(t *testing.T, a *fakeTaskAuditor, _ *httptest.ResponseRecorder) {
				if a.recs[0].Attrs["summary"] != "ai" {
					t.Errorf("summary audit %q", a.recs[0].Attrs["summary"])
				}
			}},
		{name: "assess with unfaithful summary", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/risk/assess?summary=true", body: list,
			summary: fakeSummary{"All fine."}, want: 200, wantBody: []string{`"summary_error":{"kind":"upstream"`, `"DDI-BLEED-01"`}},
		{name: "kb version", role: assist.RoleService, method: http.MethodGet, target: "/v1/risk/kb", want: 200,
			wantBody: []string{`"version":"` + kb.Version(), `"rules_by_category"`}},
		{name: "kb rules for review", role: assist.RoleRiskReviewer, method: http.MethodGet, target: "/v1/risk/kb?include=rules", want: 200,
			wantBody: []string{`"id":"DDI-BLEED-01"`, `"classes":[`}},
		{name: "cds discovery", role: assist.RoleService, method: http.MethodGet, target: "/cds-services", want: 200,
			wantBody: []string{`"id":"medication-risk"`, `"hook":"order-select"`, `"prefetch":{`}},
		{name: "cds order-sign", role: assist.RoleService, method: http.MethodPost, target: "/cds-services/medication-risk", body: cdsReq, want: 200,
			wantBody: []string{`"cards":[`, `"indicator":"critical"`, `"resourceId":"MedicationRequest/draft-ibuprofen"`},
			check: func(t *testing.T, a *fakeTaskAuditor, _ *httptest.ResponseRecorder) {
				r := a.recs[0]
				if r.Attrs["hook"] != "order-sign" || r.PatientRef != "pat-1" || r.Route != "/cds-services/:id" || r.Attrs["flags"] == "0" {
					t.Errorf("audit record %+v", r)
				}
			}},
		{name: "cds wrong hook for service", role: assist.RoleService, method: http.MethodPost, target: "/cds-services/medication-risk-select", body: cdsReq, want: 400},
		{name: "cds unknown service", role: assist.RoleService, method: http.MethodPost, target: "/cds-services/nope", body: cdsReq, want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeTaskAuditor{err: tt.auditErr}
			e := echo.New()
			e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
			authn := func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					c.Set(actorKey, assist.Actor{TokenID: "t1", Role: tt.role})
					return next(c)
				}
			}
			d := &RiskDeps{KB: kb, Summary: tt.summary, Now: func() time.Time { return time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC) }}
			registerRiskRoutes(e, Deps{Risk: d, Rec: recorderOf(a)}, authn, 1<<20)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set(echo.HeaderContentType, tt.contentType)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %s: %.600s", w, body)
				}
			}
			if rec.Code >= 400 {
				var eb struct {
					Error struct{ Kind, Message string }
				}
				if json.Unmarshal(body, &eb) != nil || eb.Error.Kind == "" {
					t.Errorf("error body %s", body)
				}
			}
			rec.Body = httptest.NewRecorder().Body
			rec.Body.Write(body)
			if tt.check != nil {
				tt.check(t, a, rec)
			}
		})
	}
}

func TestRiskRoutesOptional(t *testing.T) {
	e := echo.New()
	registerRiskRoutes(e, Deps{Rec: recorderOf(&fakeTaskAuditor{})}, nil, 0)
	registerRiskRoutes(e, Deps{Risk: &RiskDeps{}}, nil, 0)
	if len(e.Routes()) != 0 {
		t.Fatalf("routes registered without a knowledge base: %d", len(e.Routes()))
	}
}

// BenchmarkRiskAssessHTTP measures POST /v1/risk/assess over loopback
// HTTP with the 15-drug benchmark list (in-memory auditor, no database).
// It reports requests per second; the target is at least 1,000.
func BenchmarkRiskAssessHTTP(b *testing.B) {
	kb, err := risk.DefaultKB()
	if err != nil {
		b.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
	authn := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(actorKey, assist.Actor{TokenID: "bench", Role: assist.RoleService})
			return next(c)
		}
	}
	registerRiskRoutes(e, Deps{Risk: &RiskDeps{KB: kb}, Rec: recorderOf(&fakeTaskAuditor{})}, authn, 1<<20)
	srv := httptest.NewServer(e)
	defer srv.Close()
	const body = `{"drugs":[{"name":"Marevan 3 mg"},{"name":"Burana 400 mg"},{"name":"Cipralex 10 mg"},{"name":"Metforem 500 mg"},
	{"name":"Cardace 5 mg"},{"name":"Spiresis 25 mg"},{"name":"Furesis 40 mg"},{"name":"Emconcor 5 mg"},{"name":"Zocor 40 mg"},
	{"name":"Imovane 7,5 mg"},{"name":"Lyrica 75 mg"},{"name":"Panacod"},{"name":"Losec 20 mg"},{"name":"Primaspan 100 mg"},{"atc":"G04BD04"}],
	"patient":{"age":80,"sex":"female","egfr":35,"conditions":["I50.9","E11.9","F03"],"falls":true}}`
	client := srv.Client()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(srv.URL+"/v1/risk/assess", "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
