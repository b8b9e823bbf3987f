package httpapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

const auditTestHETU = "131052-308T"

// auditServer serves the audit routes over a real audit log holding six
// AI outputs (seq 1..6), half of them for auditTestHETU.
func auditServer(t *testing.T) (*echo.Echo, *audit.Log) {
	t.Helper()
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, audit.Migrations)
	l, err := audit.Open(ctx, db, audit.Options{HMACKey: bytes.Repeat([]byte{3}, 32),
		CheckpointKey: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)), CheckpointEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	for i := 0; i < 6; i++ {
		patient := "010594Y9032"
		if i%2 == 0 {
			patient = auditTestHETU
		}
		_, err := l.Append(ctx, audit.Event{Kind: audit.KindAIOutput, Patient: patient, Task: assist.TaskSummary,
			Model: "m", ModelDigest: "sha256:1", Actor: assist.Actor{TokenID: fmt.Sprint("tok-", i%3)},
			Input: []byte("prompt"), Output: []byte("answer"), Outcome: audit.OutcomeOK})
		if err != nil {
			t.Fatal(err)
		}
	}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
	authn := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header
			role := assist.Role(h.Get("X-Test-Role"))
			a := assist.Actor{TokenID: "t-" + string(role), Role: role, Organisation: h.Get("X-Test-Org")}
			if tok := h.Get("X-Test-Token"); tok != "" {
				a.TokenID = tok
			}
			c.Set(actorKey, a)
			return next(c)
		}
	}
	registerAuditRoutes(e, l, authn, 1<<20, ReviewOwn)
	return e, l
}

func do(t *testing.T, e *echo.Echo, role assist.Role, method, target, body string) (int, []byte) {
	t.Helper()
	return doAs(t, e, assist.Actor{Role: role}, method, target, body)
}

// doAs sends a request as a: its token id and organisation when set.
func doAs(t *testing.T, e *echo.Echo, a assist.Actor, method, target, body string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("X-Test-Role", string(a.Role))
	req.Header.Set("X-Test-Token", a.TokenID)
	req.Header.Set("X-Test-Org", a.Organisation)
	if body != "" {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	if strings.Contains(string(b), auditTestHETU) {
		t.Fatalf("%s %s: the response holds a personal identity code", method, target)
	}
	return rec.Code, b
}

func TestAuditRoutes(t *testing.T) {
	e, l := auditServer(t)
	pub := l.PublicKey()

	checkPage := func(t *testing.T, body []byte, want int) audit.Page {
		t.Helper()
		var p audit.Page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != want {
			t.Fatalf("%d entries, want %d: %s", len(p.Entries), want, body)
		}
		if err := p.Checkpoint.VerifySignature(pub); err != nil {
			t.Fatal(err)
		}
		for _, en := range p.Entries {
			if en.Proof == nil {
				t.Fatalf("seq %d without proof", en.Record.Seq)
			}
			if err := audit.VerifyInclusion(&en.Record, *en.Proof, p.Checkpoint.Root); err != nil {
				t.Fatalf("seq %d: %v", en.Record.Seq, err)
			}
		}
		return p
	}

	t.Run("list as risk reviewer, paginated", func(t *testing.T) {
		code, body := do(t, e, assist.RoleRiskReviewer, http.MethodGet, "/v1/audit/records?limit=4&task=visit_summary", "")
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		p := checkPage(t, body, 4)
		code, body = do(t, e, assist.RoleRiskReviewer, http.MethodGet, "/v1/audit/records?limit=4&task=visit_summary&cursor="+p.Next, "")
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		if p2 := checkPage(t, body, 2); p2.Next != "" || p2.Entries[0].Record.Seq != 2 {
			t.Errorf("second page %+v", p2)
		}
	})
	t.Run("search by patient", func(t *testing.T) {
		code, body := do(t, e, assist.RoleAdmin, http.MethodPost, "/v1/audit/records/search",
			`{"patient":"`+strings.ToLower(auditTestHETU)+`","order":"asc"}`)
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		p := checkPage(t, body, 3)
		if p.Entries[0].Record.Seq != 1 || p.Entries[2].Record.Seq != 5 {
			t.Errorf("entries %v", p.Entries)
		}
	})
	t.Run("record with proof", func(t *testing.T) {
		code, body := do(t, e, assist.RoleRiskReviewer, http.MethodGet, "/v1/audit/records/3", "")
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		var got struct {
			Record     audit.Record
			Proof      audit.InclusionProof
			Checkpoint audit.Checkpoint
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if err := got.Checkpoint.VerifySignature(pub); err != nil {
			t.Fatal(err)
		}
		if err := audit.VerifyInclusion(&got.Record, got.Proof, got.Checkpoint.Root); err != nil {
			t.Fatal(err)
		}
	})

	var cp1 audit.Checkpoint
	t.Run("latest checkpoint", func(t *testing.T) {
		code, body := do(t, e, assist.RoleRiskReviewer, http.MethodGet, "/v1/audit/checkpoints/latest", "")
		var got struct {
			Checkpoint audit.Checkpoint
			PublicKey  string `json:"public_key"`
		}
		if code != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("%d %s", code, body)
		}
		k, err := audit.ParsePublicKey([]byte(got.PublicKey))
		if err != nil || !k.Equal(pub) {
			t.Fatalf("public key: %v", err)
		}
		cp1 = got.Checkpoint
	})

	t.Run("clinician review linked to the output", func(t *testing.T) {
		code, body := doAs(t, e, assist.Actor{Role: assist.RoleClinician, TokenID: "tok-1"}, http.MethodPost, "/v1/audit/records/2/review",
			`{"outcome":"edited","edited_text":"corrected summary","reason":"incomplete"}`)
		if code != 201 {
			t.Fatalf("%d %s", code, body)
		}
		var rc struct{ Seq, RelatesTo int64 }
		_ = json.Unmarshal(body, &rc)
		r, err := l.Record(context.Background(), rc.Seq)
		if err != nil || r.Kind != audit.KindReview || r.RelatesTo != 2 || r.Outcome != audit.OutcomeEdited ||
			r.ActorTokenID != "tok-1" || len(r.OutputHash) != 32 || r.Attrs["reason"] != "incomplete" {
			t.Fatalf("review record %+v %v", r, err)
		}
		code, body = do(t, e, assist.RoleRiskReviewer, http.MethodGet, "/v1/audit/records?relates_to=2&kind=review", "")
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		checkPage(t, body, 1)
	})

	t.Run("consistency between checkpoints", func(t *testing.T) {
		cp2, err := l.Checkpoint(context.Background())
		if err != nil || cp2.Size <= cp1.Size {
			t.Fatalf("checkpoint: %v %+v", err, cp2)
		}
		code, body := do(t, e, assist.RoleAdmin, http.MethodGet, fmt.Sprintf("/v1/audit/consistency?from=%d&to=%d", cp1.Size, cp2.Size), "")
		var p audit.ConsistencyProof
		if code != 200 || json.Unmarshal(body, &p) != nil {
			t.Fatalf("%d %s", code, body)
		}
		if err := audit.VerifyConsistency(p, cp1.Root, cp2.Root); err != nil {
			t.Fatal(err)
		}
	})

	for _, tt := range []struct {
		name         string
		role         assist.Role
		method, path string
		body         string
		want         int
	}{
		{"clinician may not read the log", assist.RoleClinician, http.MethodGet, "/v1/audit/records", "", 403},
		{"service may not read a record", assist.RoleService, http.MethodGet, "/v1/audit/records/1", "", 403},
		{"risk reviewer may not review outputs", assist.RoleRiskReviewer, http.MethodPost, "/v1/audit/records/1/review", `{"outcome":"accepted"}`, 403},
		{"patient in a URL", assist.RoleAdmin, http.MethodGet, "/v1/audit/records?patient=" + auditTestHETU, "", 400},
		{"bad time", assist.RoleAdmin, http.MethodGet, "/v1/audit/records?from=yesterday", "", 400},
		{"bad order", assist.RoleAdmin, http.MethodGet, "/v1/audit/records?order=up", "", 400},
		{"bad cursor", assist.RoleAdmin, http.MethodGet, "/v1/audit/records?cursor=x", "", 400},
		{"missing record", assist.RoleAdmin, http.MethodGet, "/v1/audit/records/999", "", 404},
		{"bad seq", assist.RoleAdmin, http.MethodGet, "/v1/audit/records/zero", "", 400},
		{"unknown outcome", assist.RoleClinician, http.MethodPost, "/v1/audit/records/1/review", `{"outcome":"maybe"}`, 400},
		{"edited text with accepted", assist.RoleAdmin, http.MethodPost, "/v1/audit/records/1/review", `{"outcome":"accepted","edited_text":"x"}`, 400},
		{"review of a review", assist.RoleAdmin, http.MethodPost, "/v1/audit/records/7/review", `{"outcome":"accepted"}`, 404},
		{"review of a missing record", assist.RoleClinician, http.MethodPost, "/v1/audit/records/999/review", `{"outcome":"accepted"}`, 404},
		{"bad consistency sizes", assist.RoleAdmin, http.MethodGet, "/v1/audit/consistency?from=5&to=2", "", 400},
		{"consistency beyond the log", assist.RoleAdmin, http.MethodGet, "/v1/audit/consistency?from=1&to=999", "", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := do(t, e, tt.role, tt.method, tt.path, tt.body); code != tt.want {
				t.Errorf("status %d, want %d: %s", code, tt.want, body)
			}
		})
	}
}

func TestAuditRoutesOptional(t *testing.T) {
	e := echo.New()
	registerAuditRoutes(e, nil, nil, 0, ReviewOwn)
	var none *audit.Log
	registerAuditRoutes(e, none, nil, 0, ReviewOwn)
	if len(e.Routes()) != 0 {
		t.Fatalf("routes registered without an audit log: %d", len(e.Routes()))
	}
}

// Reviews belong to their record's organisation, and (by default) to the
// clinician who produced the output or the organisation's integrations; a
// record the caller may not review is answered exactly like a missing one.
func TestReviewScope(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewPool(t, audit.Migrations)
	l, err := audit.Open(ctx, db, audit.Options{HMACKey: bytes.Repeat([]byte{3}, 32),
		CheckpointKey: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)), CheckpointEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	c1 := assist.Actor{TokenID: "tok-c1", Role: assist.RoleClinician, Organisation: "A"}
	c2 := assist.Actor{TokenID: "tok-c2", Role: assist.RoleClinician, Organisation: "A"}
	svc := assist.Actor{TokenID: "tok-s", Role: assist.RoleService, Organisation: "A"}
	other := assist.Actor{TokenID: "tok-c3", Role: assist.RoleClinician, Organisation: "B"}
	admin := assist.Actor{TokenID: "tok-adm", Role: assist.RoleAdmin, Organisation: "A"}
	// seq 1..4: AI outputs by c1, c2, the integration, a clinician of B;
	// seq 5: a configuration record of organisation A (no AI output).
	for _, a := range []assist.Actor{c1, c2, svc, other} {
		if _, err := l.Append(ctx, audit.Event{Kind: audit.KindAIOutput, Actor: a, Task: assist.TaskChat, Model: "m",
			Input: []byte("in"), Output: []byte("out"), Outcome: audit.OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Append(ctx, audit.Event{Kind: audit.KindReview, Actor: admin, RelatesTo: 1, Outcome: audit.OutcomeAccepted}); err != nil {
		t.Fatal(err)
	}
	serve := func(scope ReviewScope) *echo.Echo {
		e := echo.New()
		e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
		authn := func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				h := c.Request().Header
				c.Set(actorKey, assist.Actor{TokenID: h.Get("X-Test-Token"), Role: assist.Role(h.Get("X-Test-Role")), Organisation: h.Get("X-Test-Org")})
				return next(c)
			}
		}
		registerAuditRoutes(e, l, authn, 1<<20, scope)
		return e
	}
	own, org := serve(ReviewOwn), serve(ReviewOrganisation)
	for _, tc := range []struct {
		name  string
		e     *echo.Echo
		actor assist.Actor
		seq   int
		ok    bool
	}{
		{"own output", own, c1, 1, true},
		{"a colleague's output", own, c1, 2, false},
		{"the organisation's integration's output", own, c1, 3, true},
		{"another organisation's output", own, c1, 4, false},
		{"not an AI output", own, c1, 5, false},
		{"missing", own, c1, 99, false},
		{"a colleague's output, organisation scope", org, c1, 2, true},
		{"another organisation's output, organisation scope", org, c1, 4, false},
		{"admin, own organisation", own, admin, 2, true},
		{"admin, another organisation", own, admin, 4, false},
		{"integration, another organisation", own, svc, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := doAs(t, tc.e, tc.actor, http.MethodPost, fmt.Sprintf("/v1/audit/records/%d/review", tc.seq), `{"outcome":"accepted"}`)
			if tc.ok {
				if code != http.StatusCreated {
					t.Fatalf("%d %s, want 201", code, body)
				}
				return
			}
			want := fmt.Sprintf(`"no AI output %d that you may review"`, tc.seq)
			if code != http.StatusNotFound || !strings.Contains(string(body), want) {
				t.Fatalf("%d %s, want 404 with the same message as a missing record", code, body)
			}
		})
	}
}
