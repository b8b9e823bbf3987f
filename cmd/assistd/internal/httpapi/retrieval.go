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
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
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
	audit *record.Recorder
	log   *slog.Logger
}

// registerRetrievalRoutes adds the retrieval API under /v1/retrieval. It
// registers nothing when d.Retrieval is nil (a gateway without retrieval).
func registerRetrievalRoutes(e *echo.Echo, d Deps, authn echo.MiddlewareFunc, limit int64) {
	if d.Retrieval == nil {
		return
	}
	a := &retrievalAPI{svc: d.Retrieval, audit: d.Rec, log: d.Log}
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
		rec := TaskRecord{Event: audit.Event{Kind: audit.KindRetrievalSearch, Task: assist.TaskRetrieval, Input: body}}
		var q retrieval.Query
		if err := unmarshalBody(body, &q); err != nil {
			return refuseTask(c, a.audit, rec, start, err)
		}
		setAttr(&rec, "collection", q.Collection)
		hits, err := a.svc.Search(c.Request().Context(), q)
		if err != nil {
			setAttr(&rec, "mode", string(q.Mode))
			return refuseTask(c, a.audit, rec, start, err)
		}
		if hits.Results == nil {
			hits.Results = []retrieval.Result{}
		}
		out, err := json.Marshal(hits)
		if err != nil {
			return assist.E(assist.KindInternal, "httpapi.retrievalSearch", "internal error", err)
		}
		setAttr(&rec, "mode", string(hits.Mode))
		rec.Model, rec.ModelDigest, rec.Sources = hits.Model.Name, hits.Model.Digest, hits.SourceIDs()
		rec.Output, rec.Outcome, rec.Status = out, audit.OutcomeOK, http.StatusOK
		if err := recordTask(c, a.audit, rec, start, "the audit log cannot be written; the search results were not released"); err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, out)
	}
}

// recordChange records an applied admin change, whose attrs come from
// retrieval.IngestAttrs, DeleteDocumentAttrs or DeleteCollectionAttrs (the
// CLI records its changes with the same). The change is already
// committed: when the record cannot be written the caller is told so with
// 503, and the change is logged (ids only) for the operators to reconcile.
func (a *retrievalAPI) recordChange(c echo.Context, rec TaskRecord, start time.Time) error {
	msg := "the change was applied, but the audit log cannot be written"
	if rec.Kind == audit.KindRetrievalIngest {
		msg += "; ingest the document again once the log is back to record it"
	}
	err := recordTask(c, a.audit, rec, start, msg)
	if err != nil {
		a.log.ErrorContext(c.Request().Context(), "retrieval: change applied but not recorded in the audit log",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "change", string(rec.Kind), "collection", rec.Attrs["collection"],
			"document", rec.Attrs["document_id"], "content_hash", rec.Attrs["content_hash"], "actor", actorOf(c).TokenID)
	}
	return err
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
		// Only the uploaded bytes' hash is recorded: documents are not
		// patient data, and large. The attrs are those the CLI records too.
		rec := TaskRecord{Event: audit.Event{Kind: audit.KindRetrievalIngest, InputHash: sum[:],
			Attrs: retrieval.IngestAttrs(req.Collection, req.Source, nil)}}
		res, err := a.svc.Ingest(c.Request().Context(), req)
		if err != nil {
			return refuseTask(c, a.audit, rec, start, err)
		}
		status := http.StatusOK
		if res.Status == retrieval.StatusCreated {
			status = http.StatusCreated
		}
		out, err := json.Marshal(res)
		if err != nil {
			return assist.E(assist.KindInternal, "httpapi.retrievalIngest", "internal error", err)
		}
		rec.Model, rec.ModelDigest = res.Model.Name, res.Model.Digest
		rec.Attrs = retrieval.IngestAttrs(req.Collection, req.Source, &res)
		rec.Output, rec.Outcome, rec.Status = out, audit.OutcomeOK, status
		if err := a.recordChange(c, rec, start); err != nil {
			return err
		}
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
		name := c.Param("name")
		rec := TaskRecord{Event: audit.Event{Kind: audit.KindRetrievalDeleteCollection, Attrs: retrieval.DeleteCollectionAttrs(name, nil)}}
		coll, err := a.svc.DeleteCollection(c.Request().Context(), name)
		if err != nil {
			return refuseTask(c, a.audit, rec, start, err)
		}
		rec.Model, rec.ModelDigest = coll.Model.Name, coll.Model.Digest
		rec.Attrs = retrieval.DeleteCollectionAttrs(name, &coll)
		rec.Outcome, rec.Status = audit.OutcomeOK, http.StatusNoContent
		if err := a.recordChange(c, rec, start); err != nil {
			return err
		}
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
		name := c.Param("name")
		rec := TaskRecord{Event: audit.Event{Kind: audit.KindRetrievalDelete, Attrs: retrieval.DeleteDocumentAttrs(name, id, nil)}}
		doc, err := a.svc.DeleteDocument(c.Request().Context(), name, id)
		if err != nil {
			return refuseTask(c, a.audit, rec, start, err)
		}
		rec.Attrs = retrieval.DeleteDocumentAttrs(name, id, &doc)
		rec.Outcome, rec.Status = audit.OutcomeOK, http.StatusNoContent
		if err := a.recordChange(c, rec, start); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
