package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestRiskCommands(t *testing.T) {
	run := func(stdin string, args ...string) (string, error) {
		cmd := newRiskCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	out, err := run("", "kb")
	if err != nil || !strings.Contains(out, "valid") || !strings.Contains(out, "interaction") {
		t.Fatalf("kb: %v\n%s", err, out)
	}
	if _, err := run("", "kb", "--dir", t.TempDir()); err == nil {
		t.Error("kb --dir of an empty directory succeeded")
	}
	out, err = run(`{"drugs":[{"name":"Marevan"},{"name":"Burana 400 mg"}],"patient":{"age":80,"egfr":25}}`, "assess", "--lang", "en")
	if err != nil || !strings.Contains(out, "DDI-BLEED-01") || !strings.Contains(out, "REN-NSAID-01") || !strings.Contains(out, "not assessed") {
		t.Fatalf("assess: %v\n%s", err, out)
	}
	out, err = run("", "assess", filepath.Join("..", "..", "risk", "fhirin", "testdata", "bundle_80f.json"), "--json")
	if err != nil || !strings.Contains(out, `"skipped"`) {
		t.Fatalf("assess FHIR: %v\n%.300s", err, out)
	}
	if _, err := run(`{"drugs":[{"atc":"nope"}]}`, "assess"); err == nil {
		t.Error("assess accepted a malformed ATC code")
	}
	out, err = run("", "eval", "--cases", filepath.Join("..", "..", "evals", "suite", "builtin", "data", "risk_cases.jsonl"))
	if err != nil || !strings.Contains(out, "TOTAL") {
		t.Fatalf("eval: %v\n%s", err, out)
	}
}
