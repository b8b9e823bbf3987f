package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/assist/summary"
)

// SummaryDeps is what the summary routes need.
type SummaryDeps struct {
	Service *summary.Service
	Store   *summary.Store
	// Background writes client background summaries; nil leaves the route out.
	Background *summary.Background
	// FHIR renders a draft (signed when its review accepted or edited it)
	// as a FHIR R4 Composition + Provenance Bundle; nil leaves
	// /v1/summaries/:id/fhir out.
	FHIR func(d *summary.Draft, sources []summary.Turn, rv *summary.Review) ([]byte, error)
}

var (
	summaryWriters  = []assist.Role{assist.RoleClinician, assist.RoleService}
	summaryQuality  = []assist.Role{assist.RoleRiskReviewer, assist.RoleAdmin}
	summaryReadable = []assist.Role{assist.RoleClinician, assist.RoleService, assist.RoleAdmin}
)

// registerSummaryRoutes adds the visit-note and background-summary API.
// It registers nothing when d.Summary is nil.
func registerSummaryRoutes(e *echo.Echo, deps Deps, authn echo.MiddlewareFunc, limit int64) {
	d := deps.Summary
	if d == nil || d.Service == nil {
		return
	}
	g := e.Group("/v1/summaries", authn)
	g.POST("", summaryDraft(d, limit), allow(summaryWriters...))
	g.GET("/templates", summaryTemplates(d), allow(summaryReadable...))
	g.GET("/quality", summaryQualityReport(d), allow(summaryQuality...))
	if d.Background != nil {
		g.POST("/background", summaryBackground(d, limit), allow(summaryWriters...))
	}
	if d.Store != nil {
		g.GET("/:id", summaryGet(d), allow(summaryWriters...))
		g.POST("/:id/review", summaryReview(d, limit), allow(summaryWriters...))
		if d.FHIR != nil {
			g.GET("/:id/fhir", summaryFHIR(d), allow(summaryWriters...))
		}
	}
}

// decodeStrict decodes a JSON body, refusing unknown fields by name.
func decodeStrict(c echo.Context, limit int64, v any) error {
	b, err := readBody(c, limit)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return assist.Errorf(assist.KindInvalid, "the request body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return assist.Errorf(assist.KindInvalid, "unknown field %s in the request body", f)
		}
		return jsonError(err)
	}
	return nil
}

// summaryDraft: POST /v1/summaries. With "stream": true (or ?stream=true)
// the answer is Server-Sent Events: start, progress (map steps), section
// (as each fills), done (the whole draft, after its audit record), or an
// in-band error.
func summaryDraft(d *SummaryDeps, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req summary.Request
		if err := decodeStrict(c, limit, &req); err != nil {
			return err
		}
		if s, _ := strconv.ParseBool(c.QueryParam("stream")); s {
			req.Stream = true
		}
		req.Patient = c.Request().Header.Get("X-Sote-Patient")
		if !req.Stream {
			dr, err := d.Service.Draft(c.Request().Context(), &req, nil)
			if err != nil {
				return err
			}
			c.Response().Header().Set(record.SeqHeader, record.FormatSeq(dr.AuditSeq))
			return c.JSON(http.StatusOK, dr)
		}
		sse := newSSE(c)
		_, err := d.Service.Draft(c.Request().Context(), &req, sse.emit)
		return sse.end(err)
	}
}

// sse writes Server-Sent Events; the status line goes out with the first
// event, so errors before it are ordinary error responses.
type sse struct {
	c       echo.Context
	started bool
}

func newSSE(c echo.Context) *sse { return &sse{c: c} }

func (s *sse) emit(e summary.Event) error {
	if err := s.c.Request().Context().Err(); err != nil {
		return err
	}
	w := s.c.Response()
	if !s.started {
		h := w.Header()
		h.Set(echo.HeaderContentType, "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		if m, ok := e.Data.(map[string]any); ok {
			if seq, ok := m["task_seq"].(int64); ok {
				h.Set(record.SeqHeader, record.FormatSeq(seq))
			}
		}
		w.WriteHeader(http.StatusOK)
		s.started = true
	}
	b, err := json.Marshal(e.Data)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Name, b); err != nil {
		return err
	}
	w.Flush()
	return nil
}

// end finishes the stream: an error after the first event goes in band.
func (s *sse) end(err error) error {
	if err == nil || !s.started {
		return err
	}
	if assist.KindOf(err) == assist.KindCanceled {
		return err // the client is gone; the error handler only logs
	}
	b, _ := json.Marshal(map[string]any{"kind": assist.KindOf(err), "message": assist.MessageOf(err)})
	_, _ = fmt.Fprintf(s.c.Response(), "event: error\ndata: %s\n\n", b)
	s.c.Response().Flush()
	return err
}

func summaryTemplates(d *SummaryDeps) echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"templates": d.Service.Templates.All()})
	}
}

func draftID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, assist.Errorf(assist.KindInvalid, "the draft id must be a positive number")
	}
	return id, nil
}

// summaryGet: GET /v1/summaries/:id — the draft, its sources and review.
func summaryGet(d *SummaryDeps) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := draftID(c)
		if err != nil {
			return err
		}
		st, err := d.Store.Get(c.Request().Context(), id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, st)
	}
}

// summaryReview: POST /v1/summaries/:id/review.
func summaryReview(d *SummaryDeps, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := draftID(c)
		if err != nil {
			return err
		}
		var r summary.ReviewRequest
		if err := decodeStrict(c, limit, &r); err != nil {
			return err
		}
		rv, err := d.Service.Review(c.Request().Context(), id, r)
		if err != nil {
			return err
		}
		c.Response().Header().Set(record.SeqHeader, record.FormatSeq(rv.AuditSeq))
		return c.JSON(http.StatusOK, rv)
	}
}

// summaryQualityReport: GET /v1/summaries/quality?from=&to=&template=&kind=
// (RFC 3339 times): review outcomes, edit distances, overridden flags.
func summaryQualityReport(d *SummaryDeps) echo.HandlerFunc {
	return func(c echo.Context) error {
		if d.Store == nil {
			return assist.Errorf(assist.KindUnavailable, "drafts are not kept on this gateway")
		}
		var f summary.QualityFilter
		for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
			if v := c.QueryParam(name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return assist.Errorf(assist.KindInvalid, "%s must be an RFC 3339 time, e.g. 2025-06-01T00:00:00Z", name)
				}
				*dst = t
			}
		}
		f.Template, f.Kind = c.QueryParam("template"), c.QueryParam("kind")
		q, err := d.Store.Quality(c.Request().Context(), f)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, q)
	}
}

// summaryFHIR: GET /v1/summaries/:id/fhir — a FHIR R4 Bundle with the
// draft's Composition and Provenance: preliminary before review, final
// (the signed note) after an accepted or edited review, 409 after a
// rejection.
func summaryFHIR(d *SummaryDeps) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := draftID(c)
		if err != nil {
			return err
		}
		st, err := d.Store.Get(c.Request().Context(), id)
		if err != nil {
			return err
		}
		b, err := d.FHIR(st.Draft, st.Sources, st.Review)
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "application/fhir+json", b)
	}
}

// summaryBackground: POST /v1/summaries/background — body: a FHIR R4
// Bundle; ?lang=fi|sv|en (default fi), ?template=background, ?stream=true.
func summaryBackground(d *SummaryDeps, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := readBody(c, limit)
		if err != nil {
			return err
		}
		lang := c.QueryParam("lang")
		if lang == "" {
			lang = "fi"
		}
		req := summary.BackgroundRequest{Bundle: body, Lang: lang, Template: c.QueryParam("template"),
			Patient: c.Request().Header.Get("X-Sote-Patient")}
		req.Stream, _ = strconv.ParseBool(c.QueryParam("stream"))
		if !req.Stream {
			dr, err := d.Background.Summarize(c.Request().Context(), &req, nil)
			if err != nil {
				return err
			}
			c.Response().Header().Set(record.SeqHeader, record.FormatSeq(dr.AuditSeq))
			return c.JSON(http.StatusOK, dr)
		}
		sse := newSSE(c)
		_, err = d.Background.Summarize(c.Request().Context(), &req, sse.emit)
		return sse.end(err)
	}
}
