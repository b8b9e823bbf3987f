package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
)

func TestBuiltinSuites(t *testing.T) {
	names := Builtin()
	for _, want := range []string{"risk", "translation-news", "translation-clinic", "translation-ntrex-fi", "retrieval-guidelines"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("built-in suite %s missing (have %v)", want, names)
		}
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			s, err := Open(n)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != n {
				t.Errorf("suite file %s.yaml is named %q", n, s.Name)
			}
			if strings.HasPrefix(s.Dataset.Path, "data:") {
				return // large dataset: see TestDataDirectory
			}
			cases, err := s.LoadCases("", "--data-dir")
			if err != nil {
				t.Fatal(err)
			}
			if len(cases) < 10 || s.DatasetHash == "" {
				t.Errorf("%d cases, hash %q", len(cases), s.DatasetHash)
			}
			if s.Prompt.Template != "" {
				if _, err := s.Render(cases[0]); err != nil {
					t.Errorf("render: %v", err)
				}
			}
		})
	}
}

func TestDataDirectory(t *testing.T) {
	s, err := Open("translation-ntrex-fi")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.LoadCases("", "--data-dir or evals.data_dir")
	if assist.KindOf(err) != assist.KindInvalid || !strings.Contains(err.Error(), "--data-dir or evals.data_dir") {
		t.Errorf("no data directory: %v", err)
	}
	dir := t.TempDir()
	_, err = s.LoadCases(dir, "--data-dir")
	if assist.KindOf(err) != assist.KindNotFound || !strings.Contains(err.Error(), dir) {
		t.Errorf("missing file: %v", err)
	}
	// A parallel file in the data directory becomes translation cases.
	os.MkdirAll(filepath.Join(dir, "translation"), 0o755)
	data := `{"id": "ntrex-0001", "en": "Hello there.", "fi": "Hei siellä."}
{"id": "ntrex-0002", "en": "No Finnish here."}
{"id": "ntrex-0003", "en": "Good night.", "fi": "Hyvää yötä."}
`
	os.WriteFile(filepath.Join(dir, "translation", "ntrex128_first988.jsonl"), []byte(data), 0o644)
	cases, err := s.LoadCases(dir, "--data-dir")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[1].ID != "ntrex-0003" || !strings.Contains(string(cases[1].Expected), "Hyvää yötä.") {
		t.Errorf("cases %+v", cases)
	}
	p, err := s.Render(cases[0])
	if err != nil || !strings.Contains(p, "from English to Finnish") || !strings.HasSuffix(p, "Hello there.") {
		t.Errorf("prompt %q: %v", p, err)
	}
}

func TestInvalidSuites(t *testing.T) {
	base := "name: x\nversion: 1\ntask: translation\ndataset: {path: d.jsonl}\nprompt: {id: p, version: \"1\", template: \"{{.text}}\"}\nmetrics: [chrf++]\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown field", base + "extra: 1\n", "unknown field"},
		{"unknown task", strings.Replace(base, "translation", "poetry", 1), "task \"poetry\" unknown"},
		{"metric of another task", strings.Replace(base, "[chrf++]", "[mrr]", 1), "metric \"mrr\" not available"},
		{"threshold without metric", base + "thresholds: [{metric: bleu, min: 1}]\n", "not in metrics"},
		{"threshold without bound", base + "thresholds: [{metric: chrf++}]\n", "neither min nor max"},
		{"bad template", strings.Replace(base, "{{.text}}", "{{.text", 1), "template"},
		{"no prompt id", strings.Replace(base, "id: p, ", "", 1), "id and version"},
		{"bad qualifies", base + "qualifies: poetry\n", "not a model task"},
		{"parallel without languages", strings.Replace(base, "{path: d.jsonl}", "{path: d.jsonl, format: parallel}", 1), "source and target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(fstest.MapFS{"s.yaml": {Data: []byte(tc.yaml)}}, "s.yaml")
			if assist.KindOf(err) != assist.KindInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want invalid with %q", err, tc.want)
			}
		})
	}
	if _, err := Open("no-such-suite"); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("unknown suite: %v", err)
	}
}

func TestHashCases(t *testing.T) {
	a := []evals.Case{{ID: "a", Task: "t", Input: []byte(`{"x": 1}`), Expected: []byte(`{}`)}}
	b := []evals.Case{{ID: "a", Task: "t", Input: []byte(`{"x":1}`), Expected: []byte(`{ }`)}}
	c := []evals.Case{{ID: "a", Task: "t", Input: []byte(`{"x":2}`), Expected: []byte(`{}`)}}
	if HashCases(a) != HashCases(b) {
		t.Error("white space changed the dataset hash")
	}
	if HashCases(a) == HashCases(c) {
		t.Error("a changed input kept the dataset hash")
	}
}
