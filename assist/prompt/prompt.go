// Package prompt loads the assistant's prompt templates: versioned
// text/template files embedded by each task package, one directory per
// task, named NAME@VERSION.tmpl (e.g. prompts/translate@2.tmpl). The id
// and version of the template a prompt was rendered from travel into the
// audit record of the model call (record.TemplateRef), so a reviewer can
// tell exactly which wording produced an output.
//
// A changed wording is a new file with a higher version; the old file
// stays until no release uses it. Templates fail on a missing key.
//
// It imports the vocabulary and assist/record (for TemplateRef) only.
package prompt

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/record"
)

// Template is one version of a prompt template.
type Template struct {
	ID      string
	Version string
	t       *template.Template
}

// Ref names the template for the audit record.
func (t *Template) Ref() record.TemplateRef { return record.TemplateRef{ID: t.ID, Version: t.Version} }

// Render executes the template with data. Errors: internal (a template
// referring to a missing key is a programming error the golden tests
// catch).
func (t *Template) Render(data any) (string, error) {
	var b strings.Builder
	if err := t.t.Execute(&b, data); err != nil {
		return "", assist.E(assist.KindInternal, "prompt.Render", fmt.Errorf("template %s@%s: %w", t.ID, t.Version, err))
	}
	return b.String(), nil
}

// Set is a task's templates: every version of each.
type Set struct {
	byID map[string][]*Template // ascending version
}

// Load reads every NAME@VERSION.tmpl file in dir of fsys. The id of a
// template is prefix + NAME (prefix names the task, e.g. "interpret.").
// Errors: invalid for a badly named file or a template that does not parse.
func Load(fsys fs.FS, dir, prefix string) (*Set, error) {
	const op = "prompt.Load"
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, assist.E(assist.KindInvalid, op, err)
	}
	s := &Set{byID: map[string][]*Template{}}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
			continue
		}
		base := strings.TrimSuffix(e.Name(), ".tmpl")
		name, ver, ok := strings.Cut(base, "@")
		if _, err := strconv.Atoi(ver); !ok || name == "" || err != nil {
			return nil, assist.Errorf(assist.KindInvalid, "prompt template %s: want NAME@VERSION.tmpl with a numeric version", e.Name())
		}
		text, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, assist.E(assist.KindInvalid, op, err)
		}
		id := prefix + name
		t, err := template.New(id).Option("missingkey=error").Funcs(funcs).Parse(string(text))
		if err != nil {
			return nil, assist.E(assist.KindInvalid, op, fmt.Errorf("prompt template %s: %w", e.Name(), err))
		}
		s.byID[id] = append(s.byID[id], &Template{ID: id, Version: ver, t: t})
	}
	for _, ts := range s.byID {
		sort.Slice(ts, func(i, j int) bool { return num(ts[i].Version) < num(ts[j].Version) })
	}
	return s, nil
}

// MustLoad is Load for templates embedded in the binary, where an error is
// a programming error caught by every test run.
func MustLoad(fsys fs.FS, dir, prefix string) *Set {
	s, err := Load(fsys, dir, prefix)
	if err != nil {
		panic(err)
	}
	return s
}

func num(v string) int { n, _ := strconv.Atoi(v); return n }

// Latest returns the highest version of template id. Errors: not_found.
func (s *Set) Latest(id string) (*Template, error) {
	ts := s.byID[id]
	if len(ts) == 0 {
		return nil, assist.Errorf(assist.KindNotFound, "no prompt template %q", id)
	}
	return ts[len(ts)-1], nil
}

// Version returns one version of template id. Errors: not_found.
func (s *Set) Version(id, version string) (*Template, error) {
	for _, t := range s.byID[id] {
		if t.Version == version {
			return t, nil
		}
	}
	return nil, assist.Errorf(assist.KindNotFound, "no prompt template %s@%s", id, version)
}

// IDs lists the template ids in the set, sorted.
func (s *Set) IDs() []string {
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// funcs are the helpers every template may use.
var funcs = template.FuncMap{
	"join":  strings.Join,
	"upper": strings.ToUpper,
	"quote": strconv.Quote,
}
