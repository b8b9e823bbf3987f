package httpapi

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/soteai/gateway/assist"
)

// Role sets used by routes.
var (
	modelUsers = []assist.Role{assist.RoleClinician, assist.RoleInterpreter, assist.RoleService, assist.RoleAdmin}
	anyRole    = assist.Roles
	adminOnly  = []assist.Role{assist.RoleAdmin}
)

// registerRoutes registers every route of the gateway, with the roles each allows.
func registerRoutes(e *echo.Echo, d Deps, o Options) {
	e.Use(middleware.Recover())
	e.Use(requestID())
	e.Use(observe(d.Log, d.Metrics))
	if o.RequestTimeout > 0 {
		e.Use(requestTimeout(o.RequestTimeout))
	}
	if o.BodyReadTimeout > 0 {
		e.Use(bodyReadDeadline(o.BodyReadTimeout))
	}

	// Anonymous: probes and metrics only.
	e.GET("/healthz", healthz())
	e.GET("/readyz", readyz(d))
	e.GET("/metrics", echo.WrapHandler(d.Metrics.Handler()))
	// Pages people open (pages.go): static files; their data comes from
	// the APIs below with the user's bearer token.
	e.GET("/ui", pages())
	e.GET("/ui/*", pages())

	authn := authenticate(d.Verifier, o.OllamaKeysOverHTTP)
	lim := o.MaxBodyBytes

	// Ollama-compatible API.
	ol := e.Group("", authn)
	ol.GET("/", ollamaRoot(), allow(anyRole...))
	ol.HEAD("/", ollamaRoot(), allow(anyRole...))
	ol.GET("/api/version", ollamaVersion(d), allow(anyRole...))
	ol.GET("/api/tags", ollamaTags(d), allow(modelUsers...))
	ol.GET("/api/ps", ollamaPS(d), allow(modelUsers...))
	ol.POST("/api/show", relayCall(d, lim, apiOllama, "/api/show", ""), allow(modelUsers...))
	ol.POST("/api/chat", relayCall(d, lim, apiOllama, "/api/chat", assist.TaskChat), allow(modelUsers...))
	ol.POST("/api/generate", relayCall(d, lim, apiOllama, "/api/generate", assist.TaskChat), allow(modelUsers...))
	ol.POST("/api/embed", relayCall(d, lim, apiOllama, "/api/embed", assist.TaskEmbed), allow(modelUsers...))
	// Model management stays with the operators of each host.
	for _, p := range []string{"/api/pull", "/api/push", "/api/create", "/api/copy"} {
		ol.POST(p, modelManagement(), allow(anyRole...))
	}
	ol.DELETE("/api/delete", modelManagement(), allow(anyRole...))

	// OpenAI-compatible API.
	oa := e.Group("/v1", authn)
	oa.GET("/models", openaiModels(d), allow(modelUsers...))
	oa.GET("/models/*", openaiModelRetrieve(d), allow(modelUsers...))
	oa.POST("/chat/completions", relayCall(d, lim, apiOpenAI, "/v1/chat/completions", assist.TaskChat), allow(modelUsers...))
	oa.POST("/embeddings", relayCall(d, lim, apiOpenAI, "/v1/embeddings", assist.TaskEmbed), allow(modelUsers...))

	// Speech (speech.go): OpenAI-compatible recognition and synthesis.
	if d.Speech != nil {
		oa.POST("/audio/transcriptions", transcribe(d), allow(modelUsers...))
		oa.POST("/audio/speech", synthesize(d, lim), allow(modelUsers...))
	}

	// Gateway administration.
	adm := e.Group("/v1/admin", authn)
	adm.GET("/hosts", adminHosts(d), allow(adminOnly...))
	e.GET("/v1/whoami", whoami(), authn, allow(anyRole...))

	// --- Retrieval (retrieval.go): task roles search, admins manage. ---
	// POST   /v1/retrieval/search                               clinician, interpreter, service, risk_reviewer, admin
	// GET    /v1/retrieval/collections                          admin
	// POST   /v1/retrieval/collections/:name/documents          admin (body: the document)
	// DELETE /v1/retrieval/collections/:name                    admin
	// DELETE /v1/retrieval/collections/:name/documents/:id      admin
	registerRetrievalRoutes(e, d, authn, lim)
	// --- end retrieval ---

	// --- Medication risk (risk.go): rule-based flags, CDS Hooks 2.0. ---
	// POST /v1/risk/assess        service, clinician, risk_reviewer, admin (JSON list or FHIR Bundle)
	// GET  /v1/risk/kb            service, clinician, risk_reviewer, admin (?include=rules for review)
	// GET  /cds-services          anonymous when CDS client JWTs are configured (CDS Hooks discovery)
	// POST /cds-services/:id      registered EHRs with a signed JWT (cds.clients); bearer tokens only
	//                             with cds.allow_bearer_tokens (medication-risk, medication-risk-select)
	registerRiskRoutes(e, d, authn, lim)
	// --- end medication risk ---

	// --- Digital clinic (clinic.go): urgency, red flags, reply drafts. ---
	// POST /v1/clinic/assist                 service, clinician (?fhir=true adds the FHIR resources)
	// POST /v1/clinic/decisions              service, clinician (the nurse's decision, audited)
	registerClinicRoutes(e, d, authn, lim)
	// --- end digital clinic ---

	// --- Audit log (audit.go): review API with Merkle proofs. ---
	// GET  /v1/audit/records                 risk_reviewer, admin (filters in the query; never the patient)
	// POST /v1/audit/records/search          risk_reviewer, admin (JSON filters, patient identifier allowed)
	// GET  /v1/audit/records/:seq            risk_reviewer, admin (record + inclusion proof + checkpoint)
	// POST /v1/audit/records/:seq/review     clinician, interpreter, service, admin (accepted/edited/rejected)
	// GET  /v1/audit/checkpoints/latest      risk_reviewer, admin
	// GET  /v1/audit/consistency?from=&to=   risk_reviewer, admin
	registerAuditRoutes(e, d.Audit, authn, lim, d.ReviewScope)
	// --- end audit log ---

	// --- Evaluations and model releases (releases.go): the review page's API. ---
	// GET  /v1/evals/suites                      risk_reviewer, admin (built-in suites)
	// GET  /v1/evals/runs                        risk_reviewer, admin
	// POST /v1/evals/runs                        risk_reviewer, admin ({suite, model, fresh}: runs in the gateway, 202)
	// GET  /v1/evals/runs/:id                    risk_reviewer, admin (run with summary)
	// GET  /v1/evals/runs/:id/report             risk_reviewer, admin (HTML; X-Report-SHA256)
	// GET  /v1/evals/compare?baseline=&candidate=         risk_reviewer, admin (JSON)
	// GET  /v1/evals/compare/report?baseline=&candidate=  risk_reviewer, admin (HTML)
	// GET  /v1/releases?task=                    risk_reviewer, admin (releases + digest mismatches)
	// POST /v1/releases/approve                  risk_reviewer, admin ({task, run_id, report_sha256, reason})
	// POST /v1/releases/:id/withdraw             risk_reviewer, admin ({reason})
	registerReleaseRoutes(e, d, authn, lim)
	// --- end evaluations and model releases ---

	// --- Visit notes and background summaries (summary.go). ---
	// POST /v1/summaries                  clinician, service (JSON; "stream": true → Server-Sent Events)
	// POST /v1/summaries/background       clinician, service (body: FHIR R4 Bundle; ?lang=&stream=)
	// GET  /v1/summaries/templates        clinician, service, admin
	// GET  /v1/summaries/quality          risk_reviewer, admin (review follow-up; no text)
	// GET  /v1/summaries/:id              clinician, service (draft, sources, review; same organisation)
	// GET  /v1/summaries/:id/fhir         clinician, service (FHIR R4 Composition + Provenance)
	// POST /v1/summaries/:id/review       clinician, service (accepted / edited / rejected)
	registerSummaryRoutes(e, d, authn, lim)
	// --- end summaries ---

	// --- Grounding check (summarycheck.go): deterministic, no model. ---
	// POST /v1/summaries/check               clinician, service ({transcript, draft, lang} → per sentence
	//                                        {id, supported, flags, cites}; audited as summary.check)
	registerSummaryCheckRoutes(e, d, authn, lim)
	// --- end grounding check ---

	// --- Interpretation (interpret.go): a WebSocket per session. ---
	// GET /v1/interpret/sessions   interpreter, clinician, service, admin (upgrade; token as header or subprotocol)
	registerInterpretRoutes(e, d, authn)
	// --- end interpretation ---
}
