package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/retrieval"
)

// fakeRetrieval records calls; each method returns its err field.
type fakeRetrieval struct {
	query  retrieval.Query
	ingest retrieval.IngestRequest
	err    error
	status retrieval.PutStatus
	del    string
}

func (f *fakeRetrieval) Search(_ context.Context, q retrieval.Query) ([]retrieval.Result, error) {
	f.query = q
	return []retrieval.Result{{ChunkID: 7, Source: "a.md", HeadingPath: []string{"H"}, Start: 3, End: 9, Text: "passage"}}, f.err
}

func (f *fakeRetrieval) Ingest(_ context.Context, r retrieval.IngestRequest) (retrieval.IngestResult, error) {
	f.ingest = r
	return retrieval.IngestResult{DocumentID: 1, Status: f.status, Chunks: 2}, f.err
}

func (f *fakeRetrieval) Collections(context.Context) ([]retrieval.Collection, error) {
	return []retrieval.Collection{{Name: "guides", Documents: 2, Chunks: 5}}, f.err
}

func (f *fakeRetrieval) DeleteCollection(_ context.Context, name string) error {
	f.del = name
	return f.err
}

func (f *fakeRetrieval) DeleteDocument(_ context.Context, c string, id int64) error {
	f.del = c + "/" + strconv.FormatInt(id, 10)
	return f.err
}

func (f *fakeRetrieval) MaxDocumentBytes() int64 { return 64 }

func TestRetrievalRoutes(t *testing.T) {
	tests := []struct {
		name        string
		role        assist.Role
		method      string
		target      string
		contentType string
		body        string
		err         error
		status      retrieval.PutStatus
		want        int
		wantBody    string
		check       func(t *testing.T, f *fakeRetrieval)
	}{
		{name: "search as clinician", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/retrieval/search",
			body: `{"collection":"guides","text":"verenpaine","mode":"hybrid","k":3,"languages":["fi"]}`, want: 200,
			wantBody: `"heading_path":["H"]`,
			check: func(t *testing.T, f *fakeRetrieval) {
				if f.query.Collection != "guides" || f.query.K != 3 || f.query.Mode != retrieval.ModeHybrid || f.query.Languages[0] != "fi" {
					t.Errorf("query %+v", f.query)
				}
			}},
		{name: "search as interpreter", role: assist.RoleInterpreter, method: http.MethodPost, target: "/v1/retrieval/search", body: `{"text":"x"}`, want: 200},
		{name: "search as risk reviewer", role: assist.RoleRiskReviewer, method: http.MethodPost, target: "/v1/retrieval/search", body: `{"text":"x"}`, want: 200},
		{name: "search model conflict", role: assist.RoleService, method: http.MethodPost, target: "/v1/retrieval/search", body: `{"text":"x"}`,
			err: assist.E(assist.KindConflict, "t", "collection guides is embedded with model a, not b"), want: 409, wantBody: "embedded with model"},
		{name: "search bad json", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/retrieval/search", body: `{`, want: 400},
		{name: "ingest as clinician is forbidden", role: assist.RoleClinician, method: http.MethodPost,
			target: "/v1/retrieval/collections/guides/documents?source=a.md", body: "# A", want: 403},
		{name: "ingest markdown", role: assist.RoleAdmin, method: http.MethodPost, contentType: "text/markdown; charset=windows-1252",
			target: "/v1/retrieval/collections/guides/documents?source=a.md&lang=fi&meta=kind=guideline", body: "# A\n\nText.",
			status: retrieval.StatusCreated, want: 201, wantBody: `"status":"created"`,
			check: func(t *testing.T, f *fakeRetrieval) {
				r := f.ingest
				if r.Collection != "guides" || r.Source != "a.md" || r.Lang != "fi" || r.Format != retrieval.FormatMarkdown ||
					r.Charset != "windows-1252" || r.Metadata["kind"] != "guideline" || string(r.Data) != "# A\n\nText." {
					t.Errorf("ingest request %+v", r)
				}
			}},
		{name: "ingest unchanged", role: assist.RoleAdmin, method: http.MethodPost, contentType: "application/pdf",
			target: "/v1/retrieval/collections/guides/documents?source=a.pdf", body: "%PDF-", status: retrieval.StatusUnchanged, want: 200},
		{name: "ingest without source", role: assist.RoleAdmin, method: http.MethodPost, target: "/v1/retrieval/collections/guides/documents", body: "x", want: 400},
		{name: "ingest unsupported type", role: assist.RoleAdmin, method: http.MethodPost, contentType: "image/png",
			target: "/v1/retrieval/collections/guides/documents?source=a.png", body: "x", want: 400},
		{name: "ingest too large", role: assist.RoleAdmin, method: http.MethodPost, target: "/v1/retrieval/collections/guides/documents?source=a.txt",
			body: strings.Repeat("a", 65), want: 413},
		{name: "ingest invalid document", role: assist.RoleAdmin, method: http.MethodPost, target: "/v1/retrieval/collections/guides/documents?source=a.txt",
			body: "x", err: assist.E(assist.KindInvalid, "t", "the file looks binary, not text"), want: 400, wantBody: "looks binary"},
		{name: "list collections", role: assist.RoleAdmin, method: http.MethodGet, target: "/v1/retrieval/collections", want: 200, wantBody: `"chunks":5`},
		{name: "list collections as service is forbidden", role: assist.RoleService, method: http.MethodGet, target: "/v1/retrieval/collections", want: 403},
		{name: "delete collection", role: assist.RoleAdmin, method: http.MethodDelete, target: "/v1/retrieval/collections/guides", want: 204,
			check: func(t *testing.T, f *fakeRetrieval) {
				if f.del != "guides" {
					t.Errorf("deleted %q", f.del)
				}
			}},
		{name: "delete missing document", role: assist.RoleAdmin, method: http.MethodDelete, target: "/v1/retrieval/collections/guides/documents/3",
			err: assist.E(assist.KindNotFound, "t", "document not found"), want: 404},
		{name: "delete bad document id", role: assist.RoleAdmin, method: http.MethodDelete, target: "/v1/retrieval/collections/guides/documents/x", want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRetrieval{err: tt.err, status: tt.status}
			e := echo.New()
			e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
			authn := func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					c.Set(actorKey, assist.Actor{TokenID: "t1", Role: tt.role})
					return next(c)
				}
			}
			registerRetrievalRoutes(e, f, authn, 1<<20)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set(echo.HeaderContentType, tt.contentType)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, body)
			}
			if tt.wantBody != "" && !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %s lacks %s", body, tt.wantBody)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestRetrievalRoutesOptional(t *testing.T) {
	e := echo.New()
	registerRetrievalRoutes(e, nil, nil, 0)
	if len(e.Routes()) != 0 {
		t.Fatalf("routes registered without a retrieval service: %d", len(e.Routes()))
	}
}
