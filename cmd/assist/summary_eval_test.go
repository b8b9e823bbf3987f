package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// TestEvalVisitNotes runs the visit-note suites against the stack's model
// through the summary task: the shipped MTS-Dialog excerpt, and ACI-Bench
// from a data directory (a clear error when it is not set). The tiny model
// writes nonsense, so only that every metric is computed is checked.
func TestEvalVisitNotes(t *testing.T) {
	s := newEvalStack(t, "")
	if _, _, err := s.assist("migrate"); err != nil {
		t.Fatal(err)
	}
	model := ollamatest.Model(t)
	out, errOut, err := s.assist("eval", "run", "visit-notes-mts-sample", "--model", model, "--json")
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	var run struct {
		Summary struct {
			Cases   int                        `json:"cases"`
			Metrics map[string]json.RawMessage `json:"metrics"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("%v: %.300s", err, out)
	}
	if run.Summary.Cases != 12 {
		t.Errorf("%d cases", run.Summary.Cases)
	}
	for _, m := range []string{"rouge1", "rouge2", "rougeL", "rouge1_ascii", "rouge2_ascii", "rougeL_ascii", "citation_coverage", "unsupported_rate"} {
		if run.Summary.Metrics[m] == nil {
			t.Errorf("metric %s missing: %s", m, out)
		}
	}

	// The full ACI-Bench suite reads the configured data directory.
	_, _, err = s.assist("eval", "run", "visit-notes-aci", "--model", model)
	if err == nil || !strings.Contains(err.Error(), "data") {
		t.Errorf("without a data directory: %v", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dialogues"), 0o755); err != nil {
		t.Fatal(err)
	}
	visits, err := os.ReadFile("../../assist/summary/testdata/aci-bench/visits.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dialogues", "aci_bench_test1.jsonl"), visits, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = s.assist("eval", "run", "visit-notes-aci", "--model", model, "--data-dir", dir, "--json")
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.Summary.Cases != 2 || run.Summary.Metrics["rougeL"] == nil {
		t.Errorf("ACI run: %v %.300s", err, out)
	}
}
