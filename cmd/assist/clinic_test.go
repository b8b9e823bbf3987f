package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// TestClinicExportFeedback records a suggestion and two nurse decisions in
// a real audit log with stored (encrypted) content, one decision without
// content, and exports them as evaluation cases.
func TestClinicExportFeedback(t *testing.T) {
	ctx := context.Background()
	db, dbURL := pgtest.NewPool(t, audit.Migrations)
	key := func(n int) string { b := make([]byte, n); _, _ = rand.Read(b); return hex.EncodeToString(b) }
	seed := key(ed25519.SeedSize)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "assistd.yaml")
	cfgText := fmt.Sprintf("hosts:\n  - name: h1\n    url: http://127.0.0.1:9\naudit:\n  enabled: true\n  hmac_key: %s\n  checkpoint_key: %s\n  content_key: %s\n  retention: 720h\n", key(32), seed, key(32))
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, []string{"ASSIST_DATABASE_URL=" + dbURL})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cfg.AuditOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.CheckpointEvery, opts.PurgeEvery = -1, -1
	l, err := audit.Open(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	nurse := assist.Actor{TokenID: "tok-nurse", Role: assist.RoleClinician}
	req := `{"collection":"ohjeet","lang":"sv","conversation":[{"author":"patient","text":"Jag har feber och ont i halsen sedan tre dagar."}]}`
	sug, err := l.Append(ctx, audit.Event{Kind: audit.KindClinicSuggestion, Task: assist.TaskClinic, Actor: nurse, Input: []byte(req), Output: []byte(`{}`),
		Attrs: map[string]string{"urgency": "self_care"}})
	if err != nil {
		t.Fatal(err)
	}
	dec := func(draft, urgency, canonical, final string) {
		in, _ := json.Marshal(map[string]any{"suggestion": sug.Seq, "urgency": urgency, "draft": draft, "final_text": final})
		if _, err := l.Append(ctx, audit.Event{Kind: audit.KindClinicDecision, Task: assist.TaskClinic, Actor: nurse, RelatesTo: sug.Seq, Input: in,
			Outcome: audit.OutcomeEdited, Attrs: map[string]string{"urgency": urgency, "canonical": canonical, "suggested_urgency": "self_care",
				"urgency_changed": fmt.Sprint(urgency != "self_care"), "urgency_direction": "raised", "draft": draft}}); err != nil {
			t.Fatal(err)
		}
	}
	dec("edited", "few_days", "few_days", "Boka en tid på hälsostationen inom några dagar.")
	dec("discarded", "same_day", "same_day", "")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A log without the content key: the decision's content is not stored.
	opts.ContentKey = nil
	l2, err := audit.Open(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Append(ctx, audit.Event{Kind: audit.KindClinicDecision, RelatesTo: sug.Seq, Input: []byte(`{}`), Attrs: map[string]string{"canonical": "self_care"}}); err != nil {
		t.Fatal(err)
	}
	_ = l2.Close()

	out := filepath.Join(dir, "feedback.jsonl")
	msg, err := cli(t, dbURL, "--config", cfgPath, "clinic", "export-feedback", "--out", out)
	if err != nil {
		t.Fatalf("export: %v %s", err, msg)
	}
	if !strings.Contains(msg, "2 cases written") || !strings.Contains(msg, "1 decisions skipped") {
		t.Errorf("summary %q", msg)
	}
	cases, err := evals.LoadFile(os.DirFS(dir), "feedback.jsonl")
	if err != nil || len(cases) != 2 {
		t.Fatalf("cases %v: %v", len(cases), err)
	}
	var exp struct {
		Urgency, Reply string
		Flags          []string
	}
	if err := cases[0].DecodeExpected(&exp); err != nil || exp.Urgency != "few_days" || !strings.Contains(exp.Reply, "Boka en tid") ||
		!strings.Contains(string(cases[0].Input), "ont i halsen") || !cases[0].HasTag("urgency_changed") {
		t.Errorf("case %+v expected %+v (%v)", cases[0], exp, err)
	}
	if err := cases[1].DecodeExpected(&exp); err != nil || exp.Urgency != "same_day" {
		t.Errorf("second case %+v", exp)
	}
	if _, err := cli(t, dbURL, "clinic", "export-feedback", "--out", out); err == nil {
		t.Errorf("export without --config must fail")
	}
}

// TestEvalRunClinicTriageSuite runs the built-in digital clinic triage
// suite (red-flag rules, no model) through the evaluation runner: its
// thresholds (no missed emergency, safe ≥ 98%, no denied flag raised) pass.
func TestEvalRunClinicTriageSuite(t *testing.T) {
	s := newEvalStack(t, "")
	out, errOut, err := s.assist("eval", "run", "clinic-triage")
	if err != nil || !strings.Contains(out, "PASS") || !strings.Contains(out, "emergency_missed") {
		t.Fatalf("clinic-triage suite: %v\n%s\n%s", err, out, errOut)
	}
	t.Logf("%s", out)
}

// TestEvalRunClinicModelSuite runs the clinic pipeline suite with the
// stack's tiny model on a few cases: every case is answered through the
// audited model call and the red-flag floor keeps emergencies.
func TestEvalRunClinicModelSuite(t *testing.T) {
	s := newEvalStack(t, "")
	dir := t.TempDir()
	y, err := os.ReadFile("../../evals/suite/builtin/clinic-triage-model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../evals/suite/builtin/data/clinic_triage.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "data", "clinic_triage.jsonl"), data, 0o644)
	y = []byte(strings.Replace(string(y), "  path: data/clinic_triage.jsonl", "  path: data/clinic_triage.jsonl\n  limit: 4", 1))
	_ = os.WriteFile(filepath.Join(dir, "suite.yaml"), y, 0o644)
	out, errOut, err := s.assist("eval", "run", filepath.Join(dir, "suite.yaml"), "--model", ollamatest.Model(t))
	if err != nil || !strings.Contains(out, "4 cases, 0 failed") || !strings.Contains(out, "emergency_missed") {
		t.Fatalf("clinic model suite: %v\n%s\n%s", err, out, errOut)
	}
	if n := count(t, s.db, `SELECT count(*) FROM audit_records WHERE kind = 'clinic.suggestion'`); n != 4 {
		t.Errorf("%d suggestion records, want 4", n)
	}
	t.Logf("%s", out)
}
