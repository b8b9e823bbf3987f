package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/risk"
	"github.com/soteai/gateway/risk/cdshooks"
	"github.com/soteai/gateway/risk/fhirin"
)

// RiskDeps is what the medication risk routes need.
type RiskDeps struct {
	KB *risk.KB
	// Summary writes the optional plain-language summary (?summary=true);
	// nil makes such requests fail with kind unavailable.
	Summary risk.Generator
	// Now is the clock used for ages from FHIR birth dates; nil means
	// time.Now.
	Now func() time.Time
}

func (d *RiskDeps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// riskAPI is what the medication risk handlers share.
type riskAPI struct {
	*RiskDeps
	// audit records every assessment (kind risk.assess); nil only when
	// auditing is disabled by configuration.
	audit *record.Recorder
}

// newRecord starts the audit record of an assessment (refusals record no
// flags).
func (d riskAPI) newRecord() TaskRecord {
	return TaskRecord{Event: audit.Event{Kind: audit.KindRiskAssess, Task: assist.TaskRiskAssess,
		Attrs: map[string]string{"kb_version": d.KB.Version(), "flags": "0", "high_flags": "0"}}}
}

// CDSVerifier verifies a CDS Hooks client JWT for the endpoint URL
// called (assist/auth/cdsjwt). Errors: unauthorized, unavailable.
type CDSVerifier interface {
	Verify(token, audience string) (assist.Actor, error)
}

// CDSAuth is how /cds-services authenticates its callers.
type CDSAuth struct {
	Verifier CDSVerifier
	// BaseURL is the gateway's external URL; a token's audience must be
	// BaseURL plus the path called.
	BaseURL string
	// AllowBearerTokens also accepts the gateway's own bearer tokens.
	AllowBearerTokens bool
}

// cdsAuthenticate admits CDS Hooks calls signed by a registered EHR (a
// JWT in "Authorization: Bearer"), or, when allowed, a gateway bearer
// token. Failures are 401 with the JSON error body.
func cdsAuthenticate(o *CDSAuth, bearer echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		viaBearer := bearer(next)
		return func(c echo.Context) error {
			const op = "httpapi.cdsAuthenticate"
			tok, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
			tok = strings.TrimSpace(tok)
			if !ok || tok == "" {
				return assist.E(assist.KindUnauthorized, op, "a CDS client JWT is required (Authorization: Bearer <JWT signed with the EHR's registered key>)")
			}
			if strings.HasPrefix(tok, auth.TokenPrefix) {
				if o.AllowBearerTokens {
					return viaBearer(c)
				}
				return assist.E(assist.KindUnauthorized, op, "gateway bearer tokens are not accepted on /cds-services; sign each call with the EHR's registered key (CDS Hooks JWT)")
			}
			a, err := o.Verifier.Verify(tok, o.BaseURL+c.Request().URL.Path)
			if err != nil {
				return err
			}
			c.Set(actorKey, a)
			c.SetRequest(c.Request().WithContext(assist.WithActor(c.Request().Context(), a)))
			return next(c)
		}
	}
}

// riskRoles may use every medication risk route.
var riskRoles = []assist.Role{assist.RoleService, assist.RoleClinician, assist.RoleRiskReviewer, assist.RoleAdmin}

// registerRiskRoutes adds the medication risk API and the CDS Hooks
// service. It registers nothing when d.Risk is nil (a gateway without the
// risk engine).
func registerRiskRoutes(e *echo.Echo, deps Deps, authn echo.MiddlewareFunc, limit int64) {
	if deps.Risk == nil || deps.Risk.KB == nil {
		return
	}
	d := riskAPI{RiskDeps: deps.Risk, audit: deps.Rec}
	g := e.Group("", authn)
	g.POST("/v1/risk/assess", riskAssess(d, limit), allow(riskRoles...))
	g.GET("/v1/risk/kb", riskKB(d), allow(riskRoles...))
	if deps.CDS == nil {
		g.GET("/cds-services", cdsDiscovery(), allow(riskRoles...))
		g.POST("/cds-services/:id", cdsService(d, limit), allow(riskRoles...))
		return
	}
	// Signed CDS Hooks calls. Discovery lists only the service
	// descriptions, so EHRs may read it without a token.
	e.GET("/cds-services", cdsDiscovery())
	e.POST("/cds-services/:id", cdsService(d, limit), cdsAuthenticate(deps.CDS, authn), allow(riskRoles...))
}

// riskAssessResponse is the body of POST /v1/risk/assess.
type riskAssessResponse struct {
	risk.Result
	// Skipped lists FHIR resources that were not used (FHIR input only).
	Skipped []fhirin.Skipped `json:"skipped,omitempty"`
	// Summary is the optional AI-written summary (?summary=true).
	Summary      *risk.Summary `json:"summary,omitempty"`
	SummaryError *errorBody    `json:"summary_error,omitempty"`
}

type errorBody struct {
	Kind    assist.Kind `json:"kind"`
	Message string      `json:"message"`
}

// riskAssess: POST /v1/risk/assess. The body is a risk.Input (JSON) or a
// FHIR R4 Bundle (Content-Type application/fhir+json, or any JSON object
// with "resourceType"). ?lang=fi|en picks the summary language and
// ?summary=true asks for the AI summary. The X-Sote-Audit-Seq header
// carries the audit record's sequence number.
func riskAssess(d riskAPI, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		rec := d.newRecord()
		rec.Patient = c.Request().Header.Get("X-Sote-Patient")
		body, err := readBody(c, limit)
		if err != nil {
			return err
		}
		rec.Input = body
		in, skipped, patientRef, err := decodeRiskInput(c, body, d.now())
		if err != nil {
			return refuseTask(c, d.audit, rec, start, err)
		}
		if rec.Patient == "" {
			rec.Patient = patientRef
		}
		res, err := risk.Assess(d.KB, in)
		if err != nil {
			return refuseTask(c, d.audit, rec, start, err)
		}
		resp := riskAssessResponse{Result: res, Skipped: skipped}
		if want, _ := strconv.ParseBool(c.QueryParam("summary")); want {
			if d.Summary == nil {
				return refuseTask(c, d.audit, rec, start, assist.E(assist.KindUnavailable, "httpapi.riskAssess", "AI summaries are not configured on this gateway"))
			}
			s, err := risk.Summarize(c.Request().Context(), d.Summary, d.KB, res, langOf(c))
			if err != nil {
				if errors.Is(c.Request().Context().Err(), context.Canceled) {
					return err
				}
				rec.Attrs["summary"] = "failed"
				resp.SummaryError = &errorBody{Kind: assist.KindOf(err), Message: assist.MessageOf(err)}
			} else {
				if s.AIGenerated {
					rec.Attrs["summary"] = "ai"
				}
				resp.Summary = &s
			}
		}
		return d.release(c, rec, start, res, resp)
	}
}

// decodeRiskInput reads a risk.Input or a FHIR Bundle.
func decodeRiskInput(c echo.Context, body []byte, now time.Time) (risk.Input, []fhirin.Skipped, string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return risk.Input{}, nil, "", assist.Errorf(assist.KindInvalid, "the request body is empty; send a medication list (JSON) or a FHIR Bundle")
	}
	isFHIR := false
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/fhir+json" {
			isFHIR = true
		}
	}
	if !isFHIR {
		var probe struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			return risk.Input{}, nil, "", jsonError(err)
		}
		isFHIR = probe.ResourceType != ""
	}
	if isFHIR {
		p, err := fhirin.ParseBundle(body, now)
		if err != nil {
			return risk.Input{}, nil, "", err
		}
		if len(p.Input.Drugs) == 0 {
			return risk.Input{}, nil, "", assist.Errorf(assist.KindInvalid, "the bundle has no current MedicationRequest or MedicationStatement that could be used (%d resources skipped)", len(p.Skipped))
		}
		return p.Input, p.Skipped, strings.TrimPrefix(p.PatientRef, "Patient/"), nil
	}
	var in risk.Input
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			return risk.Input{}, nil, "", assist.Errorf(assist.KindInvalid, "unknown field %s in the request body", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return risk.Input{}, nil, "", jsonError(err)
	}
	return in, nil, "", nil
}

// riskKB: GET /v1/risk/kb. It reports the loaded knowledge-base version
// and counts; ?include=rules adds the rules, classes, drugs and sources
// for review by the risk-management group.
func riskKB(d riskAPI) echo.HandlerFunc {
	return func(c echo.Context) error {
		body := map[string]any{"version": d.KB.Version(), "info": d.KB.Info(), "sources": d.KB.Sources()}
		if c.QueryParam("include") == "rules" {
			body["rules"] = d.KB.Rules()
			body["classes"] = d.KB.Classes()
			body["drugs"] = d.KB.Drugs()
		}
		return c.JSON(http.StatusOK, body)
	}
}

// cdsDiscovery: GET /cds-services (CDS Hooks 2.0 discovery).
func cdsDiscovery() echo.HandlerFunc {
	d := cdshooks.Discovery()
	return func(c echo.Context) error { return c.JSON(http.StatusOK, d) }
}

// cdsService: POST /cds-services/{id} for order-sign (medication-risk)
// and order-select (medication-risk-select). Cards are in Finnish unless
// ?lang=en or Accept-Language prefers English.
func cdsService(d riskAPI, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		rec := d.newRecord()
		body, err := readBody(c, limit)
		if err != nil {
			return err
		}
		rec.Input = body
		req, err := cdshooks.ParseRequest(body, c.Param("id"))
		if err != nil {
			if assist.KindOf(err) == assist.KindNotFound {
				return err // no such service: nothing was assessed
			}
			return refuseTask(c, d.audit, rec, start, err)
		}
		setAttr(&rec, "hook", req.Hook)
		rec.Patient = req.Context.PatientID
		resp, res, err := cdshooks.Evaluate(d.KB, req, d.now(), cdshooks.CardOptions{Lang: langOf(c)})
		if err != nil {
			return refuseTask(c, d.audit, rec, start, err)
		}
		return d.release(c, rec, start, res, resp)
	}
}

// release records the assessment and only then sends the response: no
// assessment is served unrecorded.
func (d riskAPI) release(c echo.Context, rec TaskRecord, start time.Time, res risk.Result, resp any) error {
	out, err := json.Marshal(resp)
	if err != nil {
		return assist.E(assist.KindInternal, "httpapi.riskRelease", "internal error", err)
	}
	rec.Output, rec.Outcome, rec.Status = out, audit.OutcomeOK, http.StatusOK
	high := 0
	for _, f := range res.Flags {
		if f.Severity == risk.SeverityHigh {
			high++
		}
	}
	rec.Attrs["flags"], rec.Attrs["high_flags"] = strconv.Itoa(len(res.Flags)), strconv.Itoa(high)
	if err := recordTask(c, d.audit, rec, start, "the audit log cannot be written; the assessment was not released"); err != nil {
		return err
	}
	c.Response().Header().Set("X-Sote-Risk-KB", d.KB.Version())
	return c.JSONBlob(http.StatusOK, out)
}

// langOf picks "en" when ?lang=en or Accept-Language prefers English,
// else Finnish.
func langOf(c echo.Context) string {
	switch strings.ToLower(c.QueryParam("lang")) {
	case "en":
		return "en"
	case "fi":
		return "fi"
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(c.Request().Header.Get("Accept-Language"))), "en") {
		return "en"
	}
	return "fi"
}
