package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/clinic"
	"github.com/soteai/gateway/assist/clinic/clinicfhir"
	"github.com/soteai/gateway/assist/record"
)

// Clinic is what the digital clinic routes need; *clinic.Service
// implements it.
type Clinic interface {
	Assist(ctx context.Context, req clinic.Request) (clinic.Suggestion, error)
	Decide(ctx context.Context, d clinic.Decision) (clinic.DecisionResult, error)
}

var _ Clinic = (*clinic.Service)(nil)

// clinicRoles: the chat platform (service) and the nurses (clinician).
var clinicRoles = []assist.Role{assist.RoleService, assist.RoleClinician}

// registerClinicRoutes adds /v1/clinic; nothing when d.Clinic is nil.
func registerClinicRoutes(e *echo.Echo, d Deps, authn echo.MiddlewareFunc, limit int64) {
	if d.Clinic == nil {
		return
	}
	g := e.Group("/v1/clinic", authn)
	g.POST("/assist", clinicAssist(d.Clinic, d.Rec, limit), allow(clinicRoles...))
	g.POST("/decisions", clinicDecide(d.Clinic, limit), allow(clinicRoles...))
}

// clinicResponse is the suggestion, with its FHIR R4 resources (a
// collection Bundle) when asked for with ?fhir=true.
type clinicResponse struct {
	clinic.Suggestion
	FHIR json.RawMessage `json:"fhir,omitempty"`
}

// clinicAssist: POST /v1/clinic/assist with a clinic.Request body. The
// answer is a clinic.Suggestion; its audit record (kind clinic.suggestion,
// relating to the model call's record) is written before it is released
// and named by the X-Sote-Audit-Seq header. ?fhir=true adds the FHIR
// resources (Communication, ClinicalImpression, Provenance). The patient reference is the
// body's subject, else the X-Sote-Patient header.
func clinicAssist(svc Clinic, rec *record.Recorder, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		var req clinic.Request
		body, err := decodeJSON(c, limit, &req)
		refusal := TaskRecord{Event: audit.Event{Kind: audit.KindClinicSuggestion, Task: assist.TaskClinic, Input: body}}
		if err != nil {
			return refuseTask(c, rec, refusal, start, err)
		}
		if req.Subject == "" {
			req.Subject = c.Request().Header.Get("X-Sote-Patient")
		}
		refusal.Patient = req.Subject
		sg, err := svc.Assist(c.Request().Context(), req)
		if err != nil {
			if k := assist.KindOf(err); k == assist.KindInvalid || k == assist.KindTooLarge || k == assist.KindNotFound {
				return refuseTask(c, rec, refusal, start, err)
			}
			return err // model and audit failures are recorded where they happen
		}
		if sg.ID > 0 {
			c.Response().Header().Set(record.SeqHeader, record.FormatSeq(sg.ID))
		}
		resp := clinicResponse{Suggestion: sg}
		if want, _ := strconv.ParseBool(c.QueryParam("fhir")); want {
			if resp.FHIR, err = clinicfhir.Resources(sg, req.Conversation, req.Subject); err != nil {
				return assist.E(assist.KindInternal, "httpapi.clinicAssist", err)
			}
		}
		return c.JSON(http.StatusOK, resp)
	}
}

// clinicDecide: POST /v1/clinic/decisions with a clinic.Decision body:
// the nurse's decision on a suggestion, recorded in the audit log (kind
// clinic.decision, relating to the suggestion) before the 201 answer,
// whose X-Sote-Audit-Seq header names it.
func clinicDecide(svc Clinic, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		var d clinic.Decision
		if _, err := decodeJSON(c, limit, &d); err != nil {
			return err
		}
		if d.Subject == "" {
			d.Subject = c.Request().Header.Get("X-Sote-Patient")
		}
		res, err := svc.Decide(c.Request().Context(), d)
		if err != nil {
			return err
		}
		c.Response().Header().Set(record.SeqHeader, record.FormatSeq(res.ID))
		return c.JSON(http.StatusCreated, res)
	}
}
