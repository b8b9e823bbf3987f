package httpapi

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
)

// AuditLog is what the audit routes need; *audit.Log implements it.
type AuditLog interface {
	Query(ctx context.Context, q audit.Query) (audit.Page, error)
	Record(ctx context.Context, seq int64) (audit.Record, error)
	Checkpoint(ctx context.Context) (audit.Checkpoint, error)
	LatestCheckpoint(ctx context.Context) (audit.Checkpoint, error)
	InclusionProof(ctx context.Context, seq, treeSize int64) (audit.InclusionProof, error)
	ConsistencyProof(ctx context.Context, from, to int64) (audit.ConsistencyProof, error)
	Append(ctx context.Context, ev audit.Event) (audit.Receipt, error)
	PublicKey() ed25519.PublicKey
}

var _ AuditLog = (*audit.Log)(nil)

// Role sets of the audit routes: reviewers and admins read the log; the
// clinicians who use AI output (and EHR integrations on their behalf)
// record what they did with it.
var (
	auditReaders   = []assist.Role{assist.RoleRiskReviewer, assist.RoleAdmin}
	outputReviewer = []assist.Role{assist.RoleClinician, assist.RoleInterpreter, assist.RoleService, assist.RoleAdmin}
)

// registerAuditRoutes adds the audit review API under /v1/audit. It
// registers nothing when log is nil (auditing disabled).
func registerAuditRoutes(e *echo.Echo, log AuditLog, authn echo.MiddlewareFunc, limit int64, scope ReviewScope) {
	if l, ok := log.(*audit.Log); log == nil || ok && l == nil {
		return
	}
	g := e.Group("/v1/audit", authn)
	g.GET("/records", auditRecords(log), allow(auditReaders...))
	g.POST("/records/search", auditSearch(log, limit), allow(auditReaders...))
	g.GET("/records/:seq", auditRecord(log), allow(auditReaders...))
	g.POST("/records/:seq/review", auditReview(log, limit, scope), allow(outputReviewer...))
	g.GET("/checkpoints/latest", auditLatestCheckpoint(log), allow(auditReaders...))
	g.GET("/consistency", auditConsistency(log), allow(auditReaders...))
}

// auditQuery is the JSON body of POST /v1/audit/records/search and the
// query parameters of GET /v1/audit/records (all but patient).
type auditQuery struct {
	From         time.Time       `json:"from"`
	To           time.Time       `json:"to"`
	Kind         audit.EventKind `json:"kind"`
	Actor        string          `json:"actor"`
	Organisation string          `json:"organisation"`
	Task         assist.Task     `json:"task"`
	Model        string          `json:"model"`
	Outcome      audit.Outcome   `json:"outcome"`
	RelatesTo    int64           `json:"relates_to"`
	// Patient is a clear identifier; it is pseudonymised by the audit log
	// and never logged. Only the POST form accepts it: URLs end up in logs.
	Patient string `json:"patient"`
	Cursor  string `json:"cursor"`
	Limit   int    `json:"limit"`
	Order   string `json:"order"` // "desc" (default) or "asc"
}

func (q auditQuery) toQuery() (audit.Query, error) {
	out := audit.Query{From: q.From, To: q.To, Kind: q.Kind, ActorTokenID: q.Actor, Organisation: q.Organisation,
		Task: q.Task, Model: q.Model, Outcome: q.Outcome, RelatesTo: q.RelatesTo, Patient: q.Patient,
		Cursor: q.Cursor, Limit: q.Limit}
	switch q.Order {
	case "", "desc":
	case "asc":
		out.Ascending = true
	default:
		return out, assist.Errorf(assist.KindInvalid, "order must be asc or desc")
	}
	if q.Limit < 0 || q.Limit > audit.MaxQueryLimit {
		return out, assist.Errorf(assist.KindInvalid, "limit must be between 1 and %d", audit.MaxQueryLimit)
	}
	return out, nil
}

// auditRecords: GET /v1/audit/records?from=&to=&kind=&actor=&organisation=
// &task=&model=&outcome=&relates_to=&cursor=&limit=&order=. Each record
// comes with its inclusion proof against the page's checkpoint.
func auditRecords(log AuditLog) echo.HandlerFunc {
	return func(c echo.Context) error {
		qp := c.QueryParams()
		if qp.Has("patient") {
			return assist.Errorf(assist.KindInvalid, "send the patient identifier in the body of POST /v1/audit/records/search, never in a URL")
		}
		q, err := auditQueryFromURL(qp)
		if err != nil {
			return err
		}
		return auditPage(c, log, q)
	}
}

// auditSearch: POST /v1/audit/records/search with an auditQuery body.
func auditSearch(log AuditLog, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		var q auditQuery
		if _, err := decodeJSON(c, limit, &q); err != nil {
			return err
		}
		return auditPage(c, log, q)
	}
}

func auditPage(c echo.Context, log AuditLog, aq auditQuery) error {
	q, err := aq.toQuery()
	if err != nil {
		return err
	}
	page, err := log.Query(c.Request().Context(), q)
	if err != nil {
		return err
	}
	if page.Entries == nil {
		page.Entries = []audit.Entry{}
	}
	return c.JSON(http.StatusOK, page)
}

func auditQueryFromURL(qp url.Values) (auditQuery, error) {
	q := auditQuery{Kind: audit.EventKind(qp.Get("kind")), Actor: qp.Get("actor"), Organisation: qp.Get("organisation"),
		Task: assist.Task(qp.Get("task")), Model: qp.Get("model"), Outcome: audit.Outcome(qp.Get("outcome")),
		Cursor: qp.Get("cursor"), Order: qp.Get("order")}
	var err error
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := qp.Get(p.name); v != "" {
			if *p.dst, err = time.Parse(time.RFC3339, v); err != nil {
				return q, assist.Errorf(assist.KindInvalid, "%s must be an RFC 3339 time such as 2025-03-01T00:00:00Z", p.name)
			}
		}
	}
	if v := qp.Get("relates_to"); v != "" {
		if q.RelatesTo, err = strconv.ParseInt(v, 10, 64); err != nil || q.RelatesTo < 1 {
			return q, assist.Errorf(assist.KindInvalid, "relates_to must be a positive sequence number")
		}
	}
	if v := qp.Get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 {
			return q, assist.Errorf(assist.KindInvalid, "limit must be between 1 and %d", audit.MaxQueryLimit)
		}
	}
	return q, nil
}

func seqParam(c echo.Context) (int64, error) {
	seq, err := strconv.ParseInt(c.Param("seq"), 10, 64)
	if err != nil || seq < 1 {
		return 0, assist.Errorf(assist.KindInvalid, "the record sequence number must be a positive integer")
	}
	return seq, nil
}

// auditRecord: GET /v1/audit/records/{seq}: the record, its inclusion
// proof and the signed checkpoint the proof is against (signed now if
// the record is newer than the latest one).
func auditRecord(log AuditLog) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		seq, err := seqParam(c)
		if err != nil {
			return err
		}
		rec, err := log.Record(ctx, seq)
		if err != nil {
			return err
		}
		cp, err := log.LatestCheckpoint(ctx)
		if err != nil && assist.KindOf(err) != assist.KindNotFound {
			return err
		}
		if cp.Size < seq {
			if cp, err = log.Checkpoint(ctx); err != nil {
				return err
			}
		}
		p, err := log.InclusionProof(ctx, seq, cp.Size)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"record": rec, "proof": p, "checkpoint": cp})
	}
}

// auditReviewRequest is the body of POST /v1/audit/records/{seq}/review.
type auditReviewRequest struct {
	Outcome audit.Outcome `json:"outcome"` // accepted, edited or rejected
	// EditedText is the text the clinician kept, for "edited": its SHA-256
	// is recorded (and, with content storage on, an encrypted copy).
	EditedText *string `json:"edited_text"`
	// EditedSHA256 may be sent instead of the text (hex).
	EditedSHA256 string `json:"edited_sha256"`
	// Reason is a short code (e.g. "hallucination", "incomplete"), not
	// free text about the patient.
	Reason string `json:"reason"`
}

// reviewable kinds are records of AI output a clinician can act on.
var reviewable = map[audit.EventKind]bool{audit.KindAIOutput: true, audit.KindStreamStart: true,
	audit.KindStreamEnd: true, audit.KindRiskAssess: true}

// ReviewScope is which AI outputs a clinician or interpreter may review.
// Everyone reviews only records of their own organisation; admins and
// integrations (service) any of it.
type ReviewScope string

const (
	// ReviewOwn: records the caller produced, and records produced by an
	// integration (service credential) of the organisation on behalf of
	// its clinicians. The default.
	ReviewOwn ReviewScope = "own"
	// ReviewOrganisation: any record of the caller's organisation.
	ReviewOrganisation ReviewScope = "organisation"
)

// mayReview reports whether a may review the record r.
func (s ReviewScope) mayReview(a assist.Actor, r audit.Record) bool {
	if r.ActorOrg != a.Organisation {
		return false
	}
	switch a.Role {
	case assist.RoleAdmin, assist.RoleService:
		return true
	}
	if s == ReviewOrganisation {
		return true
	}
	return r.ActorTokenID == a.TokenID || r.ActorRole == assist.RoleService
}

// auditReview: POST /v1/audit/records/{seq}/review records a clinician's
// outcome for an AI output as a new record linked to it (relates_to).
// It answers 201 with the new record's receipt. A record that does not
// exist, that the caller may not review (another organisation, another
// clinician's output) or that is no AI output is answered alike: not
// found, so nothing about other records leaks.
func auditReview(log AuditLog, limit int64, scope ReviewScope) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		seq, err := seqParam(c)
		if err != nil {
			return err
		}
		var req auditReviewRequest
		if _, err := decodeJSON(c, limit, &req); err != nil {
			return err
		}
		switch req.Outcome {
		case audit.OutcomeAccepted, audit.OutcomeEdited, audit.OutcomeRejected:
		default:
			return assist.Errorf(assist.KindInvalid, "outcome must be accepted, edited or rejected")
		}
		if len(req.Reason) > 64 {
			return assist.Errorf(assist.KindInvalid, "reason must be a short code (at most 64 characters)")
		}
		notFound := assist.Errorf(assist.KindNotFound, "no AI output %d that you may review", seq)
		target, err := log.Record(ctx, seq)
		if assist.KindOf(err) == assist.KindNotFound {
			return notFound
		}
		if err != nil {
			return err
		}
		if !reviewable[target.Kind] || !scope.mayReview(actorOf(c), target) {
			return notFound
		}
		ev := audit.Event{Kind: audit.KindReview, RequestID: c.Response().Header().Get(echo.HeaderXRequestID), Actor: actorOf(c), Task: target.Task,
			Model: target.Model, ModelDigest: target.ModelDigest, Outcome: req.Outcome, RelatesTo: seq}
		if req.Reason != "" {
			ev.Attrs = map[string]string{"reason": req.Reason}
		}
		switch {
		case req.EditedText != nil:
			ev.Output = []byte(*req.EditedText)
		case req.EditedSHA256 != "":
			h, err := audit.ParseHash(req.EditedSHA256)
			if err != nil {
				return assist.Errorf(assist.KindInvalid, "edited_sha256 must be 64 hex digits")
			}
			ev.OutputHash = h
		}
		if (ev.Output != nil || ev.OutputHash != nil) && req.Outcome != audit.OutcomeEdited {
			return assist.Errorf(assist.KindInvalid, "edited_text and edited_sha256 go with the outcome edited")
		}
		rc, err := log.Append(ctx, ev)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, map[string]any{"seq": rc.Seq, "time": rc.Time, "leaf_hash": rc.LeafHash, "relates_to": seq})
	}
}

// auditLatestCheckpoint: GET /v1/audit/checkpoints/latest, with the
// public key that verifies it (compare it with one from a trusted place).
func auditLatestCheckpoint(log AuditLog) echo.HandlerFunc {
	return func(c echo.Context) error {
		cp, err := log.LatestCheckpoint(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"checkpoint": cp, "public_key": string(audit.MarshalPublicKey(log.PublicKey()))})
	}
}

// auditConsistency: GET /v1/audit/consistency?from=SIZE&to=SIZE proves
// that the tree of size from is a prefix of the tree of size to.
func auditConsistency(log AuditLog) echo.HandlerFunc {
	return func(c echo.Context) error {
		from, err1 := strconv.ParseInt(c.QueryParam("from"), 10, 64)
		to, err2 := strconv.ParseInt(c.QueryParam("to"), 10, 64)
		if err1 != nil || err2 != nil || from < 0 || to < from {
			return assist.Errorf(assist.KindInvalid, "from and to must be tree sizes with 0 <= from <= to")
		}
		p, err := log.ConsistencyProof(c.Request().Context(), from, to)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}
