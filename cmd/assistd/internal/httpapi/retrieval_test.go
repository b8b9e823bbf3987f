package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
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

func (f *fakeRetrieval) Search(_ context.Context, q retrieval.Query) (retrieval.Hits, error) {
	f.query = q
	if f.err != nil {
		return retrieval.Hits{}, f.err
	}
	return retrieval.Hits{Collection: q.Collection, Mode: retrieval.ModeHybrid, Model: fakeModel, Results: []retrieval.Result{
		{ChunkID: 7, Source: "a.md", HeadingPath: []string{"H"}, Start: 3, End: 9, Text: "passage"},
		{ChunkID: 3, Source: "b.md", HeadingPath: []string{"G"}, Start: 0, End: 4, Text: "more"},
	}}, nil
}

var fakeModel = retrieval.EmbeddingModel{Name: "embed-m", Digest: "sha256:abc", Dims: 4}

func (f *fakeRetrieval) Ingest(_ context.Context, r retrieval.IngestRequest) (retrieval.IngestResult, error) {
	f.ingest = r
	if f.err != nil {
		return retrieval.IngestResult{}, f.err
	}
	return retrieval.IngestResult{DocumentID: 1, Status: f.status, Chunks: 2, Embedded: 2, Lang: "fi", ContentHash: "c0ffee", Model: fakeModel}, nil
}

func (f *fakeRetrieval) Collections(context.Context) ([]retrieval.Collection, error) {
	return []retrieval.Collection{{Name: "guides", Documents: 2, Chunks: 5}}, f.err
}

func (f *fakeRetrieval) DeleteCollection(_ context.Context, name string) (retrieval.Collection, error) {
	f.del = name
	if f.err != nil {
		return retrieval.Collection{}, f.err
	}
	return retrieval.Collection{Name: name, Model: fakeModel, Documents: 2, Chunks: 5}, nil
}

func (f *fakeRetrieval) DeleteDocument(_ context.Context, c string, id int64) (retrieval.Document, error) {
	f.del = c + "/" + strconv.FormatInt(id, 10)
	if f.err != nil {
		return retrieval.Document{}, f.err
	}
	return retrieval.Document{ID: id, Source: "a.md", Lang: "fi", ContentHash: "feed"}, nil
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
			registerRetrievalRoutes(e, Deps{Retrieval: f}, authn, 1<<20)
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
	registerRetrievalRoutes(e, Deps{Rec: recorderOf(&fakeTaskAuditor{})}, nil, 0)
	if len(e.Routes()) != 0 {
		t.Fatalf("routes registered without a retrieval service: %d", len(e.Routes()))
	}
}

// TestRetrievalAudit checks that searches and document changes are
// recorded before the answer is released, and that a search is refused
// with 503 when its record cannot be written.
func TestRetrievalAudit(t *testing.T) {
	const search = `{"collection":"guides","text":"verenpaine","k":2}`
	tests := []struct {
		name     string
		role     assist.Role
		method   string
		target   string
		body     string
		svcErr   error
		auditErr error
		want     int
		wantSeq  string
		check    func(t *testing.T, a *fakeTaskAuditor, body []byte)
	}{
		{name: "search is recorded with its sources", role: assist.RoleClinician, method: http.MethodPost,
			target: "/v1/retrieval/search", body: search, want: 200, wantSeq: "1",
			check: func(t *testing.T, a *fakeTaskAuditor, body []byte) {
				if len(a.recs) != 1 || a.recs[0].Kind != audit.KindRetrievalSearch {
					t.Fatalf("records: %+v, want one search", a.recs)
				}
				r := a.recs[0]
				if string(r.Input) != search || !bytes.Equal(r.Output, body) {
					t.Errorf("input %q / output %q, want the exact request and response bodies (%q)", r.Input, r.Output, body)
				}
				if !slices.Equal(r.Sources, []string{"chunk:7", "chunk:3"}) {
					t.Errorf("sources %q, want the chunk ids in rank order", r.Sources)
				}
				if r.Model != fakeModel.Name || r.ModelDigest != fakeModel.Digest || r.Attrs["collection"] != "guides" || r.Attrs["mode"] != string(retrieval.ModeHybrid) {
					t.Errorf("model %s@%s, attrs %v", r.Model, r.ModelDigest, r.Attrs)
				}
				if r.Actor.TokenID != "t1" || r.Actor.Role != assist.RoleClinician || r.Outcome != "ok" || r.Status != 200 || r.ErrorKind != "" ||
					r.Task != assist.TaskRetrieval || r.Route != "/v1/retrieval/search" {
					t.Errorf("record %+v", r)
				}
				var out retrieval.Hits
				if err := json.Unmarshal(body, &out); err != nil || out.Model != fakeModel || len(out.Results) != 2 {
					t.Errorf("response %s: %v", body, err)
				}
			}},
		{name: "search not released when the log fails", role: assist.RoleClinician, method: http.MethodPost,
			target: "/v1/retrieval/search", body: search, auditErr: errors.New("database down"), want: 503,
			check: func(t *testing.T, _ *fakeTaskAuditor, body []byte) {
				if bytes.Contains(body, []byte("passage")) || bytes.Contains(body, []byte("chunk_id")) {
					t.Errorf("results released without a record: %s", body)
				}
				if !bytes.Contains(body, []byte("audit log cannot be written")) || bytes.Contains(body, []byte("database down")) {
					t.Errorf("error body %s", body)
				}
			}},
		{name: "refused search is recorded", role: assist.RoleService, method: http.MethodPost, target: "/v1/retrieval/search",
			body:   `{"collection":"guides","text":"x","model":"other"}`,
			svcErr: assist.E(assist.KindConflict, "t", "collection guides is embedded with model a, not other"), want: 409,
			check: func(t *testing.T, a *fakeTaskAuditor, _ []byte) {
				if len(a.recs) != 1 {
					t.Fatalf("%d records", len(a.recs))
				}
				r := a.recs[0]
				if r.Kind != audit.KindRetrievalSearch || r.Outcome != "error" || r.ErrorKind != assist.KindConflict || r.Status != 409 ||
					r.Output != nil || r.Sources != nil || r.Attrs["collection"] != "guides" {
					t.Errorf("record %+v", r)
				}
			}},
		{name: "malformed search is recorded", role: assist.RoleClinician, method: http.MethodPost, target: "/v1/retrieval/search",
			body: `{"text":`, want: 400,
			check: func(t *testing.T, a *fakeTaskAuditor, _ []byte) {
				if len(a.recs) != 1 || a.recs[0].Kind != audit.KindRetrievalSearch || string(a.recs[0].Input) != `{"text":` || a.recs[0].ErrorKind != assist.KindInvalid {
					t.Errorf("records %+v", a.recs)
				}
			}},
		{name: "refused search answers its own error when the log fails too", role: assist.RoleClinician, method: http.MethodPost,
			target: "/v1/retrieval/search", body: `{}`, svcErr: assist.E(assist.KindInvalid, "t", "the search text is empty"),
			auditErr: errors.New("down"), want: 400},
		{name: "ingest is recorded with the document id and content hash", role: assist.RoleAdmin, method: http.MethodPost,
			target: "/v1/retrieval/collections/guides/documents?source=a.md", body: "# A\n\nText.", want: 201, wantSeq: "1",
			check: func(t *testing.T, a *fakeTaskAuditor, body []byte) {
				if len(a.recs) != 1 || a.recs[0].Kind != audit.KindRetrievalIngest {
					t.Fatalf("records: %+v, want one ingest", a.recs)
				}
				r := a.recs[0]
				sum := sha256.Sum256([]byte("# A\n\nText."))
				if r.Attrs["document_id"] != "1" || r.Attrs["content_hash"] != "c0ffee" || r.Attrs["collection"] != "guides" || r.Attrs["source"] != "a.md" ||
					r.Attrs["put_status"] != string(retrieval.StatusCreated) || r.Attrs["chunks"] != "2" || r.Attrs["embedded"] != "2" ||
					r.Model != fakeModel.Name || r.ModelDigest != fakeModel.Digest || !bytes.Equal(r.InputSHA256, sum[:]) || r.Input != nil ||
					!bytes.Equal(r.Output, body) || r.Outcome != "ok" || r.Status != 201 || r.Actor.Role != assist.RoleAdmin || r.Task != "" {
					t.Errorf("record %+v", r)
				}
			}},
		{name: "ingest answers 503 when the log fails", role: assist.RoleAdmin, method: http.MethodPost,
			target: "/v1/retrieval/collections/guides/documents?source=a.md", body: "# A", auditErr: errors.New("down"), want: 503,
			check: func(t *testing.T, _ *fakeTaskAuditor, body []byte) {
				if !bytes.Contains(body, []byte("ingest the document again")) {
					t.Errorf("error body %s", body)
				}
			}},
		{name: "refused ingest is recorded", role: assist.RoleAdmin, method: http.MethodPost,
			target: "/v1/retrieval/collections/guides/documents?source=a.txt", body: "x",
			svcErr: assist.E(assist.KindInvalid, "t", "the file looks binary, not text"), want: 400,
			check: func(t *testing.T, a *fakeTaskAuditor, _ []byte) {
				if len(a.recs) != 1 || a.recs[0].Kind != audit.KindRetrievalIngest || a.recs[0].Outcome != "error" || a.recs[0].ErrorKind != assist.KindInvalid ||
					a.recs[0].Attrs["source"] != "a.txt" || a.recs[0].Attrs["chunks"] != "" {
					t.Errorf("records %+v", a.recs)
				}
			}},
		{name: "document delete is recorded", role: assist.RoleAdmin, method: http.MethodDelete,
			target: "/v1/retrieval/collections/guides/documents/9", want: 204, wantSeq: "1",
			check: func(t *testing.T, a *fakeTaskAuditor, _ []byte) {
				r := a.recs[0]
				if r.Kind != audit.KindRetrievalDelete || r.Attrs["document_id"] != "9" || r.Attrs["content_hash"] != "feed" || r.Attrs["source"] != "a.md" ||
					r.Outcome != "ok" || r.Status != 204 {
					t.Errorf("record %+v", r)
				}
			}},
		{name: "collection delete is recorded", role: assist.RoleAdmin, method: http.MethodDelete,
			target: "/v1/retrieval/collections/guides", want: 204, wantSeq: "1",
			check: func(t *testing.T, a *fakeTaskAuditor, _ []byte) {
				r := a.recs[0]
				if r.Kind != audit.KindRetrievalDeleteCollection || r.Attrs["collection"] != "guides" || r.Attrs["documents"] != "2" || r.Attrs["chunks"] != "5" ||
					r.Model != fakeModel.Name || r.ModelDigest != fakeModel.Digest {
					t.Errorf("record %+v", r)
				}
			}},
		{name: "delete answers 503 when the log fails", role: assist.RoleAdmin, method: http.MethodDelete,
			target: "/v1/retrieval/collections/guides/documents/9", auditErr: errors.New("down"), want: 503},
		{name: "forbidden change is not a change", role: assist.RoleClinician, method: http.MethodDelete,
			target: "/v1/retrieval/collections/guides", want: 403,
			check: func(t *testing.T, a *fakeTaskAuditor, _ []byte) {
				if len(a.recs) != 0 {
					t.Errorf("records %+v", a.recs)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRetrieval{err: tt.svcErr, status: retrieval.StatusCreated}
			a := &fakeTaskAuditor{err: tt.auditErr}
			e := echo.New()
			e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
			authn := func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					c.Set(actorKey, assist.Actor{TokenID: "t1", Role: tt.role})
					return next(c)
				}
			}
			registerRetrievalRoutes(e, Deps{Retrieval: f, Rec: recorderOf(a)}, authn, 1<<20)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body)))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, body)
			}
			if got := rec.Header().Get("X-Sote-Audit-Seq"); got != tt.wantSeq {
				t.Errorf("X-Sote-Audit-Seq %q, want %q", got, tt.wantSeq)
			}
			if tt.check != nil {
				tt.check(t, a, body)
			}
		})
	}
}
