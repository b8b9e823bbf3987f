package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/assist/summary/grounding"
)

const cliCheck = `{"lang":"sv",
 "transcript":[{"id":"t1","speaker":"läkare","text":"Har du ont i bröstet?"},{"id":"t2","speaker":"patient","text":"Nej. Jag tar Waran fem milligram på kvällen."}],
 "draft":[{"id":"s1","text":"Ingen bröstsmärta."},{"id":"s2","text":"Warfarin 2,5 mg till natten.","cites":["t2"]}]}`

func summaryRunner(e *env) func(stdin string, args ...string) (string, string, error) {
	return func(stdin string, args ...string) (string, string, error) {
		cmd := newSummaryCmd(e)
		var out, errOut bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), errOut.String(), err
	}
}

// TestSummaryCheckCommand checks a draft from a file and from standard
// input, in text and JSON, and refuses bad input with clear messages.
func TestSummaryCheckCommand(t *testing.T) {
	run := summaryRunner(&env{})
	file := filepath.Join(t.TempDir(), "check.json")
	if err := os.WriteFile(file, []byte(cliCheck), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run("", "check", file)
	if err != nil || !strings.Contains(out, "s1  supported") || !strings.Contains(out, "s2  UNSUPPORTED") || !strings.Contains(out, "dose") ||
		!strings.Contains(out, "1 supported, 1 unsupported") || !strings.Contains(errOut, "not recorded") {
		t.Fatalf("check: %v\n%s\n%s", err, out, errOut)
	}
	out, _, err = run(cliCheck, "check", "-", "--json")
	var res grounding.Response
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || res.Unsupported != 1 || !res.Sentences[0].Proposed {
		t.Fatalf("check --json: %v\n%s", err, out)
	}
	for name, tc := range map[string]struct{ in, msg string }{
		"empty transcript": {`{"lang":"fi","transcript":[],"draft":[{"id":"s","text":"x"}]}`, "transcript"},
		"duplicate ids":    {`{"lang":"fi","transcript":[{"id":"a","text":"x"},{"id":"a","text":"y"}],"draft":[{"id":"s","text":"x"}]}`, "duplicate turn id"},
		"unknown lang":     {`{"lang":"no","transcript":[{"id":"a","text":"x"}],"draft":[{"id":"s","text":"x"}]}`, "unknown lang"},
		"unknown field":    {`{"language":"fi"}`, "unknown field"},
		"not json":         {`[`, "not a JSON check request"},
	} {
		if _, _, err := run(tc.in, "check", "-"); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := run("", "check", filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// TestSummaryCheckCommandAudited records the check with --config, as the
// gateway would, before printing it.
func TestSummaryCheckCommandAudited(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t, migrations()...)
	pool, err := pgdb.Open(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cfgPath := filepath.Join(t.TempDir(), "assistd.yaml")
	yaml := "database:\n  url: " + dbURL + "\nhosts:\n  - url: http://127.0.0.1:9\naudit:\n  hmac_key: " +
		strings.Repeat("ab", 32) + "\n  checkpoint_key: " + strings.Repeat("cd", 32) + "\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := summaryRunner(&env{configPath: cfgPath})(cliCheck, "check", "-")
	if err != nil || !strings.Contains(errOut, "recorded in the audit log as seq 1") || !strings.Contains(out, "UNSUPPORTED") {
		t.Fatalf("check: %v\n%s\n%s", err, out, errOut)
	}
	r, err := audit.NewStore(pool).Record(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != audit.KindSummaryCheck || r.Task != assist.TaskSummary || r.Attrs["unsupported"] != "1" || r.Attrs["sentences"] != "2" ||
		r.Outcome != audit.OutcomeOK || !strings.HasPrefix(r.ActorTokenID, "cli:") {
		t.Fatalf("record %+v", r)
	}
}
