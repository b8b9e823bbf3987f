package httpapi

import (
	"encoding/json"
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
	"github.com/soteai/gateway/assist/auth/cdsjwt"
	"github.com/soteai/gateway/assist/auth/cdsjwt/cdsjwttest"
	"github.com/soteai/gateway/risk"
)

// TestCDSAuthentication: /cds-services takes calls signed by a registered
// EHR; gateway bearer tokens only when allowed; every refusal is a 401
// with the JSON error body and a CDS-style WWW-Authenticate header.
func TestCDSAuthentication(t *testing.T) {
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../../../risk/cdshooks/testdata/order_sign_request.json")
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://gateway.example.org"
	ehr := cdsjwttest.New(t, "https://ehr.example.org/fhir")
	stranger := cdsjwttest.New(t, "https://other.example.org/fhir")
	v, err := cdsjwt.New([]cdsjwt.Client{{Issuer: ehr.Issuer, Name: "ward-ehr", Organisation: "county", JWKS: ehr.JWKS}}, cdsjwt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sign := base + "/cds-services/medication-risk"
	replayed := ehr.Token(t, "ES384", sign)
	tests := []struct {
		name        string
		method      string
		path        string
		auth        string
		allowBearer bool
		want        int
		wantMsg     string
		actor       string
	}{
		{"signed ES384", "POST", "/cds-services/medication-risk", "Bearer " + ehr.Token(t, "ES384", sign), false, 200, "", "cds:ward-ehr"},
		{"signed RS384", "POST", "/cds-services/medication-risk", "Bearer " + ehr.Token(t, "RS384", sign), false, 200, "", "cds:ward-ehr"},
		{"first use", "POST", "/cds-services/medication-risk", "Bearer " + replayed, false, 200, "", "cds:ward-ehr"},
		{"replayed", "POST", "/cds-services/medication-risk", "Bearer " + replayed, false, 401, "replay", ""},
		{"token for the other service", "POST", "/cds-services/medication-risk", "Bearer " + ehr.Token(t, "ES384", sign+"-select"), false, 401, "audience", ""},
		{"unregistered EHR", "POST", "/cds-services/medication-risk", "Bearer " + stranger.Token(t, "ES384", sign), false, 401, "not a registered", ""},
		{"no credentials", "POST", "/cds-services/medication-risk", "", false, 401, "JWT is required", ""},
		{"gateway bearer token refused", "POST", "/cds-services/medication-risk", "Bearer sote_abc", false, 401, "not accepted on /cds-services", ""},
		{"gateway bearer token allowed", "POST", "/cds-services/medication-risk", "Bearer sote_abc", true, 200, "", "t1"},
		{"discovery needs no token", "GET", "/cds-services", "", false, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeTaskAuditor{}
			e := echo.New()
			e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
			bearer := func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					c.Set(actorKey, assist.Actor{TokenID: "t1", Role: assist.RoleService})
					return next(c)
				}
			}
			d := &RiskDeps{KB: kb, Now: func() time.Time { return time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC) }}
			cds := &CDSAuth{Verifier: v, BaseURL: base, AllowBearerTokens: tt.allowBearer}
			registerRiskRoutes(e, Deps{Risk: d, Rec: recorderOf(a), CDS: cds}, bearer, 1<<20)
			// The replay case shares the verifier with "first use".
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(string(body)))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			got, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, got)
			}
			if tt.want == http.StatusUnauthorized {
				var eb struct {
					Error struct{ Kind, Message string }
				}
				if json.Unmarshal(got, &eb) != nil || eb.Error.Kind != "unauthorized" || !strings.Contains(eb.Error.Message, tt.wantMsg) {
					t.Errorf("error body %s, want kind unauthorized and %q", got, tt.wantMsg)
				}
				if h := rec.Header().Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate %q", h)
				}
			}
			if tt.actor != "" {
				if len(a.recs) != 1 || a.recs[0].Actor.TokenID != tt.actor || a.recs[0].Actor.Role != assist.RoleService {
					t.Errorf("audit records %+v, want one by %s", a.recs, tt.actor)
				}
			}
		})
	}
}
