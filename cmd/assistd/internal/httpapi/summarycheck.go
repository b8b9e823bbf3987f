package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/summary/grounding"
)

// SummaryCheckDeps is what POST /v1/summaries/check needs: the grounding
// checker (no model) and the input limits.
type SummaryCheckDeps struct {
	Checker *grounding.Checker
	Limits  grounding.Limits
}

// summaryCheckRoles: clinicians and EHR integrations.
var summaryCheckRoles = []assist.Role{assist.RoleClinician, assist.RoleService}

// registerSummaryCheckRoutes adds POST /v1/summaries/check; nothing when
// d.SummaryCheck is nil.
func registerSummaryCheckRoutes(e *echo.Echo, d Deps, authn echo.MiddlewareFunc, limit int64) {
	if d.SummaryCheck == nil || d.SummaryCheck.Checker == nil {
		return
	}
	e.POST("/v1/summaries/check", summaryCheck(*d.SummaryCheck, d, limit), authn, allow(summaryCheckRoles...))
}

// summaryCheck: POST /v1/summaries/check with {transcript:[{id, speaker,
// text}], draft:[{id, text, cites?}], lang}. It answers per sentence {id,
// supported, flags[], cites[]} (grounding.Response). The check runs no
// model; it is recorded in the audit log as a task event (kind
// summary.check: input and output hashed, counts in the attributes)
// before the answer is released, and refusals are recorded too.
func summaryCheck(sc SummaryCheckDeps, d Deps, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		rec := TaskRecord{Event: audit.Event{Kind: audit.KindSummaryCheck, Task: assist.TaskSummary,
			Patient: c.Request().Header.Get("X-Sote-Patient"), Attrs: map[string]string{"checker": "grounding"}}}
		body, err := readBody(c, limit)
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		rec.Input = body
		var req grounding.Request
		if err := decodeStrictBytes(body, &req); err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		setAttr(&rec, "lang", req.Lang)
		res, err := sc.Checker.CheckRequest(req, sc.Limits)
		if err != nil {
			return refuseTask(c, d.Rec, rec, start, err)
		}
		out, err := json.Marshal(res)
		if err != nil {
			return assist.E(assist.KindInternal, "httpapi.summaryCheck", "internal error", err)
		}
		rec.Output, rec.Outcome, rec.Status = out, audit.OutcomeOK, http.StatusOK
		rec.Attrs["sentences"] = strconv.Itoa(len(res.Sentences))
		rec.Attrs["unsupported"] = strconv.Itoa(res.Unsupported)
		rec.Attrs["turns"] = strconv.Itoa(len(req.Transcript))
		setAttr(&rec, "catalogue", res.Catalogue)
		if err := recordTask(c, d.Rec, rec, start, "the audit log cannot be written; the check was not released"); err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, out)
	}
}

// decodeStrictBytes decodes a JSON object refusing unknown fields, with a
// message that never quotes the input.
func decodeStrictBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return assist.Errorf(assist.KindInvalid, "the request body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return assist.Errorf(assist.KindInvalid, "unknown field %s in the request body", f)
		}
		return jsonError(err)
	}
	return nil
}
