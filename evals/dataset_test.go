package evals

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	const good = `# a comment
{"id": "c1", "task": "risk_assess", "input": {"drugs": []}, "expected": {"flags": ["A"]}, "tags": ["ddi", "older_adult"], "notes": "n"}

{"id": "c2", "task": "risk_assess", "input": {}, "expected": {}}
`
	cases, err := Load(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].ID != "c1" || cases[0].Line != 2 || cases[1].Line != 4 {
		t.Fatalf("cases = %+v", cases)
	}
	if !cases[0].HasTag("ddi") || cases[1].HasTag("ddi") {
		t.Error("HasTag")
	}
	var exp struct{ Flags []string }
	if err := cases[0].DecodeExpected(&exp); err != nil || len(exp.Flags) != 1 {
		t.Errorf("DecodeExpected = %v, %v", exp, err)
	}
	var strict struct{ Other int }
	if err := cases[0].DecodeExpected(&strict); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("DecodeExpected with unknown field: %v", err)
	}
	if got := FilterTask(cases, "risk_assess"); len(got) != 2 {
		t.Errorf("FilterTask = %d", len(got))
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"not json", `{"id": "a", `, "line 1: not a valid case object"},
		{"unknown field", `{"id": "a", "task": "t", "input": {}, "expected": {}, "extra": 1}`, `unknown field "extra"`},
		{"missing id", `{"task": "t", "input": {}, "expected": {}}`, `line 1: id ""`},
		{"bad task", `{"id": "a", "task": "Risk Assess", "input": {}, "expected": {}}`, "task \"Risk Assess\" must be lower_snake_case"},
		{"input not object", `{"id": "a", "task": "t", "input": [1], "expected": {}}`, "input must be a JSON object"},
		{"missing expected", `{"id": "a", "task": "t", "input": {}}`, "expected must be a JSON object"},
		{"bad tag", `{"id": "a", "task": "t", "input": {}, "expected": {}, "tags": ["Bad Tag"]}`, `tag "Bad Tag"`},
		{"duplicate", "{\"id\": \"a\", \"task\": \"t\", \"input\": {}, \"expected\": {}}\n{\"id\": \"a\", \"task\": \"t\", \"input\": {}, \"expected\": {}}", `line 2: duplicate id "a" (first on line 1)`},
		{"two values", `{"id": "a", "task": "t", "input": {}, "expected": {}} {}`, "more than one JSON value"},
		{"empty", "\n# only a comment\n", "no cases"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadReportsAllProblems(t *testing.T) {
	data := "{\"id\": \"a\"}\nnot json\n{\"id\": \"ok\", \"task\": \"t\", \"input\": {}, \"expected\": {}}\n"
	_, err := Load(strings.NewReader(data))
	if err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want problems on lines 1 and 2", err)
	}
}

func TestLoadFile(t *testing.T) {
	fsys := fstest.MapFS{"d.jsonl": {Data: []byte(`{"id": "a", "task": "t", "input": {}, "expected": {}}`)}}
	if cases, err := LoadFile(fsys, "d.jsonl"); err != nil || len(cases) != 1 {
		t.Fatalf("LoadFile = %v, %v", cases, err)
	}
	if _, err := LoadFile(fsys, "missing.jsonl"); err == nil {
		t.Fatal("LoadFile of a missing file succeeded")
	}
}
