package prompt_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/soteai/gateway/assist"
	goldenfile "github.com/soteai/gateway/assist/golden"
	"github.com/soteai/gateway/assist/prompt"
)

func TestLoadAndRender(t *testing.T) {
	s, err := prompt.Load(os.DirFS("testdata"), "prompts", "demo.")
	if err != nil {
		t.Fatal(err)
	}
	latest, err := s.Latest("demo.translate")
	if err != nil || latest.Version != "2" || latest.Ref().ID != "demo.translate" || latest.Ref().Version != "2" {
		t.Fatalf("latest %+v %v", latest, err)
	}
	data := map[string]any{"From": "fi", "To": "en", "Terms": []string{"verenpaine = blood pressure"}, "Text": `Verenpaine on "koholla".`}
	for _, v := range []string{"1", "2"} {
		tm, err := s.Version("demo.translate", v)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tm.Render(data)
		if err != nil {
			t.Fatal(err)
		}
		goldenfile.Check(t, filepath.Join("testdata", "golden", "translate@"+v+".txt"), []byte(out))
	}
	if _, err := latest.Render(map[string]any{"From": "fi"}); assist.KindOf(err) != assist.KindInternal {
		t.Errorf("missing key: %v", err)
	}
	if _, err := s.Latest("demo.nope"); assist.KindOf(err) != assist.KindNotFound {
		t.Errorf("unknown id: %v", err)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no version":     {"p/x.tmpl": {Data: []byte("hi")}},
		"bad version":    {"p/x@one.tmpl": {Data: []byte("hi")}},
		"does not parse": {"p/x@1.tmpl": {Data: []byte("{{.A}")}},
		"no directory":   {},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := prompt.Load(fsys, "p", ""); assist.KindOf(err) != assist.KindInvalid {
				t.Fatalf("error %v, want invalid", err)
			}
		})
	}
}
