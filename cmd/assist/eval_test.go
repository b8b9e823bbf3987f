package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/evals/report"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// TestMain lets the test binary act as the assist program in a child
// process (ASSIST_TEST_MAIN=1), so a test can kill a real run midway.
func TestMain(m *testing.M) {
	if os.Getenv("ASSIST_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// evalStack is a database, a configuration naming the stack's Ollama and
// the audit keys, and a runner of assist commands.
type evalStack struct {
	dbURL, cfgPath, ollamaURL string
	db                        *pgxpool.Pool
}

func newEvalStack(t *testing.T, extraYAML string) *evalStack {
	t.Helper()
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t, migrations()...)
	db, err := pgdb.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	s := &evalStack{dbURL: dbURL, db: db, ollamaURL: ollamatest.URL(t), cfgPath: filepath.Join(t.TempDir(), "assistd.yaml")}
	yaml := "database:\n  url: " + dbURL + "\nhosts:\n  - name: local\n    url: " + s.ollamaURL + "\naudit:\n  hmac_key: " +
		strings.Repeat("ab", 32) + "\n  checkpoint_key: " + strings.Repeat("cd", 32) + "\n" + extraYAML
	if err := os.WriteFile(s.cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// assist runs the CLI in-process.
func (s *evalStack) assist(args ...string) (string, string, error) {
	root := newRootCmd(nil)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--config", s.cfgPath))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// createModel makes (or re-makes) a model on the stack's Ollama from the
// tiny test model with its own system prompt and parameters, so each
// version gets a new digest behind the same name. It returns the digest.
func createModel(t *testing.T, base, name, system string, params map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": name, "from": ollamatest.Model(t), "system": system, "parameters": params, "stream": false})
	resp, err := http.Post(base+"/api/create", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("create %s: %d %v", name, resp.StatusCode, e)
	}
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, base+"/api/delete", strings.NewReader(`{"model":"`+name+`"}`))
		if r, err := http.DefaultClient.Do(req); err == nil {
			r.Body.Close()
		}
	})
	resp2, err := http.Get(base + "/api/tags")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var tags struct {
		Models []struct{ Name, Digest string }
	}
	_ = json.NewDecoder(resp2.Body).Decode(&tags)
	for _, m := range tags.Models {
		if m.Name == name+":latest" || m.Name == name {
			return m.Digest
		}
	}
	t.Fatalf("model %s not listed after create", name)
	return ""
}

// regressionSuite writes a suite whose references are the outputs of
// the test suite's finished run.
func regressionSuite(t *testing.T, db *pgxpool.Pool) string {
	t.Helper()
	dir := t.TempDir()
	raw, err := os.ReadFile("testdata/evalsuite/cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var c map[string]any
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		var outText string
		if err := db.QueryRow(context.Background(), `SELECT r.output FROM evals.results r JOIN evals.runs u ON u.id = r.run_id
			WHERE u.suite = 'test-translation' AND u.status = 'done' AND r.case_id = $1`, c["id"]).Scan(&outText); err != nil {
			t.Fatalf("reference output of %v: %v", c["id"], err)
		}
		if outText == "" {
			t.Fatalf("case %v: empty reference output", c["id"])
		}
		c["expected"] = map[string]string{"text": outText}
		b, _ := json.Marshal(c)
		lines = append(lines, string(b))
	}
	y, err := os.ReadFile("testdata/evalsuite/suite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y = bytes.Replace(y, []byte("name: test-translation"), []byte("name: test-regression"), 1)
	if err := os.WriteFile(filepath.Join(dir, "cases.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "suite.yaml")
	if err := os.WriteFile(p, y, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func count(t *testing.T, db *pgxpool.Pool, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var runIDRe = regexp.MustCompile(`run-[0-9a-f]{12}`)

// TestEvalRunKillResumeReportCompare is the evaluation path end to end
// with the real Ollama and PostgreSQL: a run is killed (SIGKILL) midway
// and resumed without redoing finished cases, every model call is
// audited, the report renders, and a comparison with a planted regression
// (a re-created model that stops at once) exits non-zero.
func TestEvalRunKillResumeReportCompare(t *testing.T) {
	s := newEvalStack(t, "")
	ctx := context.Background()
	if _, _, err := s.assist("migrate"); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("evaltiny%d", time.Now().UnixNano()%1_000_000)
	d1 := createModel(t, s.ollamaURL, name, "You translate.", nil)

	// 0. The generated test model's output is nonsense, so translation
	// references cannot tell a regression. A run of the test suite records
	// what this release answers; those answers become the references of a
	// regression suite ("does a candidate still answer as the approved
	// release did?"), on which a changed model scores lower.
	base, _ := filepath.Abs("testdata/evalsuite/suite.yaml")
	if out, errOut, err := s.assist("eval", "run", base, "--model", name); err != nil {
		t.Fatalf("reference run: %v\n%s\n%s", err, out, errOut)
	}
	suitePath := regressionSuite(t, s.db)

	// 1. A child process runs the suite; it is killed once 3 cases are stored.
	child := exec.Command(os.Args[0], "eval", "run", suitePath, "--model", name, "--concurrency", "1", "--config", s.cfgPath)
	child.Env = append(os.Environ(), "ASSIST_TEST_MAIN=1")
	var childErr bytes.Buffer
	child.Stderr = &childErr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	results := func() int {
		return count(t, s.db, `SELECT count(*) FROM evals.results r JOIN evals.runs u ON u.id = r.run_id WHERE u.suite = 'test-regression'`)
	}
	for results() < 3 {
		if time.Now().After(deadline) {
			_ = child.Process.Kill()
			t.Fatalf("no results after 2 minutes; child stderr:\n%s", childErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = child.Process.Signal(syscall.SIGKILL)
	_ = child.Wait()
	done := results()
	if done >= 8 {
		t.Fatalf("the run finished (%d results) before it was killed", done)
	}
	var runID, status string
	if err := s.db.QueryRow(ctx, `SELECT id, status FROM evals.runs WHERE suite = 'test-regression'`).Scan(&runID, &status); err != nil || status != "running" {
		t.Fatalf("killed run: %s %s %v", runID, status, err)
	}
	type stamp struct {
		at  time.Time
		out string
	}
	before := map[string]stamp{}
	rows, _ := s.db.Query(ctx, `SELECT case_id, stored_at, output FROM evals.results WHERE run_id = $1`, runID)
	for rows.Next() {
		var id string
		var st stamp
		_ = rows.Scan(&id, &st.at, &st.out)
		before[id] = st
	}
	rows.Close()

	// 2. The same command again resumes the run and does only the rest.
	out, errOut, err := s.assist("eval", "run", suitePath, "--model", name)
	if err != nil {
		t.Fatalf("resume: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(errOut, "resumed run "+runID) {
		t.Errorf("stderr does not say the run was resumed:\n%s", errOut)
	}
	if !strings.Contains(out, "PASS") || !strings.Contains(out, "latency p50") || !strings.Contains(out, "chrf++") {
		t.Errorf("summary:\n%s", out)
	}
	if n := count(t, s.db, `SELECT count(*) FROM evals.results WHERE run_id = $1 AND error = ''`, runID); n != 8 {
		t.Fatalf("%d results after the resume, want 8", n)
	}
	for id, st := range before {
		var at time.Time
		var o string
		_ = s.db.QueryRow(ctx, `SELECT stored_at, output FROM evals.results WHERE run_id = $1 AND case_id = $2`, runID, id).Scan(&at, &o)
		if !at.Equal(st.at) || o != st.out {
			t.Errorf("case %s, finished before the kill, was redone", id)
		}
		// Its model call was made (and audited) once.
		if n := count(t, s.db, `SELECT count(*) FROM audit_records WHERE kind = $1 AND attrs->>'eval.case' = $2 AND attrs->>'eval.suite' = 'test-regression'`, string(audit.KindAIOutput), id); n != 1 {
			t.Errorf("case %s: %d audited model calls, want 1", id, n)
		}
	}
	if n := count(t, s.db, `SELECT count(*) FROM audit_records WHERE kind = $1 AND model_digest = $2 AND task = 'interpretation'`, string(audit.KindAIOutput), d1); n < 16 {
		t.Errorf("%d audited evaluation calls with digest %s, want ≥ 16", n, d1)
	}
	if !strings.Contains(out, "chrf++  100") {
		t.Errorf("the release that made the references does not score 100:\n%s", out)
	}
	if n := count(t, s.db, `SELECT count(*) FROM evals.results WHERE run_id = $1 AND audit_seq > 0 AND model_digest = $2`, runID, d1); n != 8 {
		t.Errorf("%d results link their audit record and digest, want 8", n)
	}

	// 3. The report renders, self-contained, with the model digest.
	reportPath := filepath.Join(t.TempDir(), "report.html")
	if _, errOut, err := s.assist("eval", "show", runID, "--report", reportPath); err != nil {
		t.Fatalf("show: %v %s", err, errOut)
	}
	html, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte(d1)) || !bytes.Contains(html, []byte("<svg")) || bytes.Contains(html, []byte("<script")) {
		t.Errorf("report lacks the digest or charts (%d bytes)", len(html))
	}
	if dir := os.Getenv("TEST_ARTIFACTS_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "eval_report.html"), html, 0o644)
	}
	t.Logf("report sha256 %s", report.Hash(html))

	// 4. The model is re-created behind the same name: it now stops at
	// once (a planted regression) and has a new digest.
	d2 := createModel(t, s.ollamaURL, name, "You translate.", map[string]any{"stop": []string{"a", "e", "i", "o", "u", " ", "."}})
	if d2 == d1 {
		t.Fatal("re-created model kept its digest")
	}
	out, errOut, err = s.assist("eval", "run", suitePath, "--model", name)
	if err != nil {
		t.Fatalf("candidate run: %v\n%s\n%s", err, out, errOut)
	}
	cand := runIDRe.FindString(errOut)
	if cand == "" || cand == runID {
		t.Fatalf("candidate run id %q:\n%s", cand, errOut)
	}
	cmpPath := filepath.Join(t.TempDir(), "compare.html")
	out, errOut, err = s.assist("eval", "compare", runID, cand, "--report", cmpPath)
	if err == nil || !strings.Contains(err.Error(), "gate failed") || !strings.Contains(out, "FAIL chrf++") {
		t.Fatalf("planted regression not flagged: err %v\n%s\n%s", err, out, errOut)
	}
	if _, err := os.Stat(cmpPath); err != nil {
		t.Errorf("comparison report: %v", err)
	}
	// A run compared with itself passes.
	if out, _, err := s.assist("eval", "compare", runID, runID); err != nil || !strings.Contains(out, "PASS") {
		t.Errorf("self-comparison: %v\n%s", err, out)
	}
	if out, _, err := s.assist("eval", "list"); err != nil || !strings.Contains(out, runID) || !strings.Contains(out, cand) {
		t.Errorf("list: %v\n%s", err, out)
	}

	// 5. A reviewer approves the first release with the hash of the report
	// read; a wrong hash is refused; then the release is withdrawn.
	hash := report.Hash(html)
	if _, _, err := s.assist("models", "approve", "--run", runID, "--report-sha256", strings.Repeat("0", 64), "--reason", "x"); err == nil {
		t.Error("approval with another report's hash accepted")
	}
	out, _, err = s.assist("models", "approve", "--run", runID, "--report-sha256", hash, "--reason", "Regression suite passed", "--task", "interpretation")
	if err != nil || !strings.Contains(out, "approved") {
		t.Fatalf("approve: %v %s", err, out)
	}
	out, _, err = s.assist("models", "list")
	if err != nil || !strings.Contains(out, "approved") || !strings.Contains(out, runID) {
		t.Fatalf("models list: %v\n%s", err, out)
	}
	var relID string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "approved") {
			relID = strings.Fields(line)[0]
		}
	}
	if out, _, err := s.assist("models", "withdraw", relID, "--reason", "test over"); err != nil || !strings.Contains(out, "withdrawn") {
		t.Errorf("withdraw: %v %s", err, out)
	}
	if n := count(t, s.db, `SELECT count(*) FROM audit_records WHERE kind = 'model.approval'`); n != 2 {
		t.Errorf("%d approval/withdrawal audit records, want 2", n)
	}
}

// TestEvalRunRiskSuiteAndThresholds runs the built-in risk suite (no
// model) and a suite whose threshold cannot be met: the command fails.
func TestEvalRunRiskSuiteAndThresholds(t *testing.T) {
	s := newEvalStack(t, "")
	out, errOut, err := s.assist("eval", "run", "risk")
	if err != nil || !strings.Contains(out, "PASS") || !strings.Contains(out, "f1") {
		t.Fatalf("risk suite: %v\n%s\n%s", err, out, errOut)
	}
	// The retrieval suite ingests its documents with the model and searches them.
	out, errOut, err = s.assist("eval", "run", "retrieval-guidelines", "--model", ollamatest.Model(t))
	if err != nil || !strings.Contains(out, "recall@k") || !strings.Contains(out, "mrr") {
		t.Fatalf("retrieval suite: %v\n%s\n%s", err, out, errOut)
	}
	if n := count(t, s.db, `SELECT count(*) FROM retrieval.documents`); n != 6 {
		t.Errorf("%d documents ingested for the retrieval suite, want 6", n)
	}
	dir := t.TempDir()
	data, _ := os.ReadFile("testdata/evalsuite/cases.jsonl")
	y, _ := os.ReadFile("testdata/evalsuite/suite.yaml")
	_ = os.WriteFile(filepath.Join(dir, "cases.jsonl"), data, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "suite.yaml"), bytes.Replace(y, []byte("min: 0}"), []byte("min: 99}"), 1), 0o644)
	_, _, err = s.assist("eval", "run", filepath.Join(dir, "suite.yaml"), "--model", ollamatest.Model(t))
	if err == nil || !strings.Contains(err.Error(), "thresholds not met") {
		t.Errorf("unmet threshold: %v", err)
	}
	if _, _, err := s.assist("eval", "run", "translation-ntrex-fi", "--model", ollamatest.Model(t)); err == nil ||
		!strings.Contains(err.Error(), "evals.data_dir") {
		t.Errorf("missing data directory: %v", err)
	}
	if _, _, err := s.assist("eval", "run", filepath.Join(dir, "suite.yaml"), "--model", "no-such-model"); err == nil ||
		!strings.Contains(err.Error(), "no healthy host serves") {
		t.Errorf("unknown model: %v", err)
	}
}
