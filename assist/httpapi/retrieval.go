package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/retrieval"
)

// Retrieval is what the retrieval routes need; *retrieval.Service
// implements it.
type Retrieval interface {
	Search(ctx context.Context, q retrieval.Query) (retrieval.Hits, error)
	Ingest(ctx context.Context, req retrieval.IngestRequest) (retrieval.IngestResult, error)
	Collections(ctx context.Context) ([]retrieval.Collection, error)
	DeleteCollection(ctx context.Context, name string) (retrieval.Collection, error)
	DeleteDocument(ctx context.Context, collection string, id int64) (retrieval.Document, error)
	MaxDocumentBytes() int64
}

var _ Retrieval = (*retrieval.Service)(nil)

// SearchAudit is one retrieval search to record (audit kind
// "retrieval.search"), answered or refused.
type SearchAudit struct {
	RequestID  string
	Actor      assist.Actor
	Collection string
	Mode       retrieval.Mode
	// Model is the collection's embedding model (name, digest, dims);
	// zero when the search was refused before the collection was read.
	Model   retrieval.EmbeddingModel
	Input   []byte   // exact request body
	Output  []byte   // exact response body (nil for refusals)
	Sources []string // the returned chunks' source ids, in rank order
	Latency time.Duration
	Outcome string // "ok" or "error"
	// ErrorKind is the refusal's kind; Status the HTTP status sent.
	ErrorKind assist.Kind
	Status    int
}

// DocumentChange names an admin change to the retrieval collections.
type DocumentChange string

// Document changes recorded in the audit log.
const (
	ChangeIngest           DocumentChange = "ingest"            // a document added, replaced or found unchanged
	ChangeDelete           DocumentChange = "delete"            // a document deleted
	ChangeDeleteCollection DocumentChange = "delete_collection" // a collection deleted
)

// DocumentAudit is one admin change to record, applied or refused.
type DocumentAudit struct {
	Change     DocumentChange
	RequestID  string
	Actor      assist.Actor
	Route      string
	Collection string
	DocumentID int64  // ingests and document deletes
	Source     string // the document's source key
	// ContentHash is the SHA-256 (hex) of the document's normalised text:
	// of the stored version for ingests, of the removed one for deletes.
	ContentHash string
	PutStatus   retrieval.PutStatus // ingests: created, updated or unchanged
	Lang        string
	Chunks      int // chunks stored (ingests) or removed (collection deletes)
	Embedded    int // ingests: chunks sent to the embedding model
	Documents   int // collection deletes: documents removed
	Model       retrieval.EmbeddingModel
	// InputSHA256 is the hash of the uploaded document bytes; the bytes
	// themselves are not recorded (documents are not patient data, and
	// large).
	InputSHA256 []byte
	Output      []byte // exact response body (ingests; deletes answer 204)
	Latency     time.Duration
	Outcome     string // "ok" or "error"
	ErrorKind   assist.Kind
	Status      int
}

// RetrievalAuditor durably records retrieval events and returns the
// record's sequence number. Errors: unavailable when the log cannot be
// written.
type RetrievalAuditor interface {
	RecordSearch(ctx context.Context, r SearchAudit) (int64, error)
	RecordDocumentChange(ctx context.Context, r DocumentAudit) (int64, error)
}

// Role sets of the retrieval routes: every task role reads, admins write.
var (
	retrievalReaders = []assist.Role{assist.RoleClinician, assist.RoleInterpreter, assist.RoleService, assist.RoleRiskReviewer, assist.RoleAdmin}
	retrievalWriters = []assist.Role{assist.RoleAdmin}
)

// retrievalAPI is what the retrieval handlers share.
type retrievalAPI struct {
	svc Retrieval
	// audit records searches and changes; nil only when auditing is
	// disabled by configuration.
	audit RetrievalAuditor
	log   *slog.Logger
}

// registerRetrievalRoutes adds the retrieval API under /v1/retrieval. It
// registers nothing when d.Retrieval is nil (a gateway without retrieval).
func registerRetrievalRoutes(e *echo.Echo, d Deps, authn echo.MiddlewareFunc, limit int64) {
	if d.Retrieval == nil {
		return
	}
	a := &retrievalAPI{svc: d.Retrieval, audit: d.RetrievalAudit, log: d.Log}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	g := e.Group("/v1/retrieval", authn)
	g.POST("/search", a.search(limit), allow(retrievalReaders...))
	g.GET("/collections", a.collections(), allow(retrievalWriters...))
	g.POST("/collections/:name/documents", a.ingest(), allow(retrievalWriters...))
	g.DELETE("/collections/:name", a.deleteCollection(), allow(retrievalWriters...))
	g.DELETE("/collections/:name/documents/:id", a.deleteDocument(), allow(retrievalWriters...))
}

// search: POST /v1/retrieval/search with a retrieval.Query body. The
// answer is a retrieval.Hits; it is released only after its audit record
// is written, whose sequence number the X-Sote-Audit-Seq header carries.
func (a *retrievalAPI) search(limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		body, err := readBody(c, limit)
		if err != nil {
			return err
		}
		rec := SearchAudit{Input: body}
		var q retrieval.Query
		if err := unmarshalBody(body, &q); err != nil {
			return a.refuseSearch(c, rec, start, err)
		}
		rec.Collection, rec.Mode = q.Collection, q.Mode
		hits, err := a.svc.Search(c.Request().Context(), q)
		if err != nil {
			return a.refuseSearch(c, rec, start, err)
		}
		if hits.Results == nil {
			hits.Results = []retrieval.Result{}
		}
		out, err := json.Marshal(hits)
		if err != nil {
			return assist.E(assist.KindInternal, "httpapi.retrievalSearch", "internal error", err)
		}
		rec.Mode, rec.Model, rec.Sources = hits.Mode, hits.Model, hits.SourceIDs()
		rec.Output, rec.Outcome, rec.Status = out, "ok", http.StatusOK
		seq, err := a.recordSearch(c, rec, start)
		if err != nil {
			return err
		}
		setAuditSeq(c, seq)
		return c.JSONBlob(http.StatusOK, out)
	}
}

// refuseSearch records a refused search (best effort) and returns err.
func (a *retrievalAPI) refuseSearch(c echo.Context, rec SearchAudit, start time.Time, err error) error {
	rec.Outcome, rec.ErrorKind, rec.Status = "error", assist.KindOf(err), Status(assist.KindOf(err))
	_, _ = a.recordSearch(c, rec, start)
	return err
}

func (a *retrievalAPI) recordSearch(c echo.Context, rec SearchAudit, start time.Time) (int64, error) {
	if a.audit == nil {
		return 0, nil
	}
	rec.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	rec.Actor = actorOf(c)
	rec.Latency = time.Since(start)
	seq, err := a.audit.RecordSearch(c.Request().Context(), rec)
	if err != nil {
		return 0, assist.E(assist.KindUnavailable, "httpapi.retrievalAudit", "the audit log cannot be written; the search results were not released", err)
	}
	return seq, nil
}

// recordChange records an applied admin change. The change is already
// committed: when the record cannot be written the caller is told so with
// 503, and the change is logged (ids only) for the operators to reconcile.
func (a *retrievalAPI) recordChange(c echo.Context, rec DocumentAudit, start time.Time) (int64, error) {
	if a.audit == nil {
		return 0, nil
	}
	rec.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	rec.Actor = actorOf(c)
	rec.Latency = time.Since(start)
	seq, err := a.audit.RecordDocumentChange(c.Request().Context(), rec)
	if err != nil && rec.Outcome == "ok" {
		a.log.ErrorContext(c.Request().Context(), "retrieval: change applied but not recorded in the audit log",
			"request_id", rec.RequestID, "change", string(rec.Change), "collection", rec.Collection,
			"document", rec.DocumentID, "content_hash", rec.ContentHash, "actor", rec.Actor.TokenID)
		msg := "the change was applied, but the audit log cannot be written"
		if rec.Change == ChangeIngest {
			msg += "; ingest the document again once the log is back to record it"
		}
		return 0, assist.E(assist.KindUnavailable, "httpapi.retrievalAudit", msg, err)
	}
	return seq, err
}

// refuseChange records a refused change (best effort) and returns err.
func (a *retrievalAPI) refuseChange(c echo.Context, rec DocumentAudit, start time.Time, err error) error {
	rec.Outcome, rec.ErrorKind, rec.Status = "error", assist.KindOf(err), Status(assist.KindOf(err))
	_, _ = a.recordChange(c, rec, start)
	return err
}

func setAuditSeq(c echo.Context, seq int64) {
	if seq > 0 {
		c.Response().Header().Set("X-Sote-Audit-Seq", strconv.FormatInt(seq, 10))
	}
}

// unmarshalBody decodes a JSON request body with a clear message.
func unmarshalBody(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return assist.Errorf(assist.KindInvalid, "the request body is empty; a JSON object is required")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// collections: GET /v1/retrieval/collections, with counts.
func (a *retrievalAPI) collections() echo.HandlerFunc {
	return func(c echo.Context) error {
		cs, err := a.svc.Collections(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"collections": cs})
	}
}

// ingest: POST /v1/retrieval/collections/{name}/documents. The body is
// the document itself; its Content-Type gives the format (and a charset),
// query parameters the rest: source (required), title, lang, format,
// model, charset and meta=KEY=VALUE (repeatable). It answers 201 for a new
// document, 200 for an updated or unchanged one, after recording the
// change in the audit log.
func (a *retrievalAPI) ingest() echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		qp := c.QueryParams()
		req := retrieval.IngestRequest{
			Collection: c.Param("name"),
			Source:     qp.Get("source"),
			Title:      qp.Get("title"),
			Lang:       qp.Get("lang"),
			Model:      qp.Get("model"),
			Charset:    qp.Get("charset"),
		}
		if req.Source == "" {
			return assist.Errorf(assist.KindInvalid, "the query parameter source (the document's file name or URI) is required")
		}
		format, charset, err := formatOf(qp.Get("format"), c.Request().Header.Get(echo.HeaderContentType))
		if err != nil {
			return err
		}
		req.Format = format
		if req.Charset == "" {
			req.Charset = charset
		}
		for _, kv := range qp["meta"] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return assist.Errorf(assist.KindInvalid, "meta must be KEY=VALUE")
			}
			if req.Metadata == nil {
				req.Metadata = map[string]string{}
			}
			req.Metadata[k] = v
		}
		if req.Data, err = readBody(c, a.svc.MaxDocumentBytes()); err != nil {
			return err
		}
		sum := sha256.Sum256(req.Data)
		rec := DocumentAudit{Change: ChangeIngest, Route: c.Path(), Collection: req.Collection, Source: req.Source, InputSHA256: sum[:]}
		res, err := a.svc.Ingest(c.Request().Context(), req)
		if err != nil {
			return a.refuseChange(c, rec, start, err)
		}
		status := http.StatusOK
		if res.Status == retrieval.StatusCreated {
			status = http.StatusCreated
		}
		out, err := json.Marshal(res)
		if err != nil {
			return assist.E(assist.KindInternal, "httpapi.retrievalIngest", "internal error", err)
		}
		rec.DocumentID, rec.ContentHash, rec.PutStatus, rec.Lang = res.DocumentID, res.ContentHash, res.Status, res.Lang
		rec.Chunks, rec.Embedded, rec.Model = res.Chunks, res.Embedded, res.Model
		rec.Output, rec.Outcome, rec.Status = out, "ok", status
		seq, err := a.recordChange(c, rec, start)
		if err != nil {
			return err
		}
		setAuditSeq(c, seq)
		return c.JSONBlob(status, out)
	}
}

// formatOf takes the document format from the format parameter or the
// Content-Type; generic types leave it to detection.
func formatOf(param, contentType string) (retrieval.Format, string, error) {
	if param != "" {
		f, err := retrieval.ParseFormat(param)
		return f, "", err
	}
	if contentType == "" {
		return "", "", nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", "", assist.Errorf(assist.KindInvalid, "the Content-Type header is malformed")
	}
	switch mt {
	case "text/markdown", "text/x-markdown":
		return retrieval.FormatMarkdown, params["charset"], nil
	case "text/plain":
		return retrieval.FormatText, params["charset"], nil
	case "text/html", "application/xhtml+xml":
		return retrieval.FormatHTML, params["charset"], nil
	case "application/pdf":
		return retrieval.FormatPDF, "", nil
	case "application/octet-stream":
		return "", "", nil
	}
	return "", "", assist.Errorf(assist.KindInvalid, "unsupported Content-Type %q (want text/markdown, text/plain, text/html or application/pdf)", mt)
}

// deleteCollection: DELETE /v1/retrieval/collections/{name}.
func (a *retrievalAPI) deleteCollection() echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		rec := DocumentAudit{Change: ChangeDeleteCollection, Route: c.Path(), Collection: c.Param("name")}
		coll, err := a.svc.DeleteCollection(c.Request().Context(), rec.Collection)
		if err != nil {
			return a.refuseChange(c, rec, start, err)
		}
		rec.Documents, rec.Chunks, rec.Model = coll.Documents, coll.Chunks, coll.Model
		rec.Outcome, rec.Status = "ok", http.StatusNoContent
		seq, err := a.recordChange(c, rec, start)
		if err != nil {
			return err
		}
		setAuditSeq(c, seq)
		return c.NoContent(http.StatusNoContent)
	}
}

// deleteDocument: DELETE /v1/retrieval/collections/{name}/documents/{id}.
func (a *retrievalAPI) deleteDocument() echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return assist.Errorf(assist.KindInvalid, "the document id must be a positive integer")
		}
		rec := DocumentAudit{Change: ChangeDelete, Route: c.Path(), Collection: c.Param("name"), DocumentID: id}
		doc, err := a.svc.DeleteDocument(c.Request().Context(), rec.Collection, id)
		if err != nil {
			return a.refuseChange(c, rec, start, err)
		}
		rec.Source, rec.ContentHash, rec.Lang = doc.Source, doc.ContentHash, doc.Lang
		rec.Outcome, rec.Status = "ok", http.StatusNoContent
		seq, err := a.recordChange(c, rec, start)
		if err != nil {
			return err
		}
		setAuditSeq(c, seq)
		return c.NoContent(http.StatusNoContent)
	}
}
