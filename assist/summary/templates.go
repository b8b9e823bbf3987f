package summary

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/record"
)

//go:embed templates/*.json
var templateFiles embed.FS

// Langs are the languages a summary can be written in.
var Langs = []string{"fi", "sv", "en"}

// Coding is a code from a code system (LOINC for documents and sections).
type Coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// Text is a string per language (fi, sv, en).
type Text map[string]string

// In returns the text in lang, else English.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	return t["en"]
}

// Section is one heading of a template.
type Section struct {
	Key      string `json:"key"`
	Title    Text   `json:"title"`
	Code     Coding `json:"code"`
	Guidance string `json:"guidance"`
}

// Kinds of templates.
const (
	KindVisit      = "visit"
	KindBackground = "background"
)

// Template is a note format: its sections in order, each with a LOINC
// code and a title per language. Templates are versioned: a changed
// template gets a new version, and the id and version travel into every
// audit record and the FHIR Provenance.
type Template struct {
	ID           string    `json:"id"`
	Version      string    `json:"version"`
	Kind         string    `json:"kind"`
	Note         string    `json:"note,omitempty"`
	Title        Text      `json:"title"`
	DocumentType Coding    `json:"document_type"`
	Sections     []Section `json:"sections"`
	// Source is "builtin" or the file it was read from (not in the file).
	Source string `json:"-"`
}

// Ref names the template in audit records.
func (t *Template) Ref() record.TemplateRef {
	return record.TemplateRef{ID: t.ID, Version: t.Version}
}

// Section returns the section with key, if any.
func (t *Template) Section(key string) (Section, bool) {
	for _, s := range t.Sections {
		if s.Key == key {
			return s, true
		}
	}
	return Section{}, false
}

var (
	idPattern      = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	versionPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}$`)
)

func (t *Template) validate() error {
	if !idPattern.MatchString(t.ID) {
		return fmt.Errorf("id %q: want lower-case letters, digits, - and _", t.ID)
	}
	if !versionPattern.MatchString(t.Version) {
		return fmt.Errorf("%s: version %q: want e.g. 1.0.0", t.ID, t.Version)
	}
	if t.Kind != KindVisit && t.Kind != KindBackground {
		return fmt.Errorf("%s: kind %q: want visit or background", t.ID, t.Kind)
	}
	if t.Title["en"] == "" {
		return fmt.Errorf("%s: an English title is required", t.ID)
	}
	if t.DocumentType.Code == "" || t.DocumentType.System == "" {
		return fmt.Errorf("%s: document_type needs a system and a code", t.ID)
	}
	if len(t.Sections) == 0 {
		return fmt.Errorf("%s: no sections", t.ID)
	}
	seen := map[string]bool{}
	for i, s := range t.Sections {
		if !idPattern.MatchString(s.Key) {
			return fmt.Errorf("%s: section %d: key %q: want lower-case letters, digits, - and _", t.ID, i, s.Key)
		}
		if seen[s.Key] {
			return fmt.Errorf("%s: section key %q twice", t.ID, s.Key)
		}
		seen[s.Key] = true
		if s.Title["en"] == "" || s.Code.Code == "" || s.Code.System == "" {
			return fmt.Errorf("%s: section %q needs an English title and a code", t.ID, s.Key)
		}
	}
	return nil
}

// Templates are the note formats a gateway offers: the built-in files and
// the county's own.
type Templates struct {
	byID map[string][]*Template // versions, newest first
}

// LoadTemplates reads the built-in templates and, when dir is not empty,
// every *.json file in dir (a county's own formats, or new versions of
// built-in ones). A file that does not parse or validate, or repeats an
// id and version, is an error naming the file.
func LoadTemplates(dir string) (*Templates, error) {
	ts := &Templates{byID: map[string][]*Template{}}
	if err := ts.addFS(templateFiles, "templates", "builtin"); err != nil {
		return nil, err
	}
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("summary templates: %w", err)
		}
		if err := ts.addFS(os.DirFS(dir), ".", dir); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// DefaultTemplates are the built-in templates only.
func DefaultTemplates() *Templates {
	ts, err := LoadTemplates("")
	if err != nil {
		panic(err) // the embedded files are checked by every test run
	}
	return ts
}

func (ts *Templates) addFS(fsys fs.FS, dir, source string) error {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return fmt.Errorf("summary template %s: %w", n, err)
		}
		var t Template
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return fmt.Errorf("summary template %s: %w", path.Base(n), err)
		}
		if err := t.validate(); err != nil {
			return fmt.Errorf("summary template %s: %w", path.Base(n), err)
		}
		t.Source = source
		for _, o := range ts.byID[t.ID] {
			if o.Version == t.Version {
				return fmt.Errorf("summary template %s: %s version %s is defined twice", path.Base(n), t.ID, t.Version)
			}
		}
		ts.byID[t.ID] = append(ts.byID[t.ID], &t)
		sort.Slice(ts.byID[t.ID], func(i, j int) bool {
			return versionLess(ts.byID[t.ID][j].Version, ts.byID[t.ID][i].Version)
		})
	}
	return nil
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// Get returns the template named by name: "id" (its newest version) or
// "id@version". Errors: invalid naming the known templates.
func (ts *Templates) Get(name, kind string) (*Template, error) {
	id, version, _ := strings.Cut(name, "@")
	for _, t := range ts.byID[id] {
		if (version == "" || t.Version == version) && (kind == "" || t.Kind == kind) {
			return t, nil
		}
	}
	return nil, assist.E(assist.KindInvalid, "summary.Templates.Get",
		fmt.Sprintf("unknown template %q; known: %s", name, strings.Join(ts.names(kind), ", ")))
}

func (ts *Templates) names(kind string) []string {
	var out []string
	for _, t := range ts.All() {
		if kind == "" || t.Kind == kind {
			out = append(out, t.ID+"@"+t.Version)
		}
	}
	return out
}

// All lists every template, by id, newest version first.
func (ts *Templates) All() []*Template {
	ids := make([]string, 0, len(ts.byID))
	for id := range ts.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []*Template
	for _, id := range ids {
		out = append(out, ts.byID[id]...)
	}
	return out
}
