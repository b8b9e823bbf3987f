package httpapi

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/retrieval"
)

// Retrieval is what the retrieval routes need; *retrieval.Service
// implements it.
type Retrieval interface {
	Search(ctx context.Context, q retrieval.Query) ([]retrieval.Result, error)
	Ingest(ctx context.Context, req retrieval.IngestRequest) (retrieval.IngestResult, error)
	Collections(ctx context.Context) ([]retrieval.Collection, error)
	DeleteCollection(ctx context.Context, name string) error
	DeleteDocument(ctx context.Context, collection string, id int64) error
	MaxDocumentBytes() int64
}

var _ Retrieval = (*retrieval.Service)(nil)

// Role sets of the retrieval routes: every task role reads, admins write.
var (
	retrievalReaders = []assist.Role{assist.RoleClinician, assist.RoleInterpreter, assist.RoleService, assist.RoleRiskReviewer, assist.RoleAdmin}
	retrievalWriters = []assist.Role{assist.RoleAdmin}
)

// registerRetrievalRoutes adds the retrieval API under /v1/retrieval. It
// registers nothing when svc is nil (a gateway without retrieval).
func registerRetrievalRoutes(e *echo.Echo, svc Retrieval, authn echo.MiddlewareFunc, limit int64) {
	if svc == nil {
		return
	}
	g := e.Group("/v1/retrieval", authn)
	g.POST("/search", retrievalSearch(svc, limit), allow(retrievalReaders...))
	g.GET("/collections", retrievalCollections(svc), allow(retrievalWriters...))
	g.POST("/collections/:name/documents", retrievalIngest(svc), allow(retrievalWriters...))
	g.DELETE("/collections/:name", retrievalDeleteCollection(svc), allow(retrievalWriters...))
	g.DELETE("/collections/:name/documents/:id", retrievalDeleteDocument(svc), allow(retrievalWriters...))
}

// retrievalSearch: POST /v1/retrieval/search with a retrieval.Query body.
func retrievalSearch(svc Retrieval, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		var q retrieval.Query
		if _, err := decodeJSON(c, limit, &q); err != nil {
			return err
		}
		rs, err := svc.Search(c.Request().Context(), q)
		if err != nil {
			return err
		}
		if rs == nil {
			rs = []retrieval.Result{}
		}
		return c.JSON(http.StatusOK, map[string]any{"results": rs})
	}
}

// retrievalCollections: GET /v1/retrieval/collections, with counts.
func retrievalCollections(svc Retrieval) echo.HandlerFunc {
	return func(c echo.Context) error {
		cs, err := svc.Collections(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"collections": cs})
	}
}

// retrievalIngest: POST /v1/retrieval/collections/{name}/documents. The
// body is the document itself; its Content-Type gives the format (and a
// charset), query parameters the rest: source (required), title, lang,
// format, model, charset and meta=KEY=VALUE (repeatable). It answers 201
// for a new document, 200 for an updated or unchanged one.
func retrievalIngest(svc Retrieval) echo.HandlerFunc {
	return func(c echo.Context) error {
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
		if req.Data, err = readBody(c, svc.MaxDocumentBytes()); err != nil {
			return err
		}
		res, err := svc.Ingest(c.Request().Context(), req)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if res.Status == retrieval.StatusCreated {
			status = http.StatusCreated
		}
		return c.JSON(status, res)
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

// retrievalDeleteCollection: DELETE /v1/retrieval/collections/{name}.
func retrievalDeleteCollection(svc Retrieval) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := svc.DeleteCollection(c.Request().Context(), c.Param("name")); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// retrievalDeleteDocument: DELETE /v1/retrieval/collections/{name}/documents/{id}.
func retrievalDeleteDocument(svc Retrieval) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return assist.Errorf(assist.KindInvalid, "the document id must be a positive integer")
		}
		if err := svc.DeleteDocument(c.Request().Context(), c.Param("name"), id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
