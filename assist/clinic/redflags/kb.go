package redflags

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// Urgency is a level of the canonical four-level triage scale the rules
// use. Counties may show another scale; the clinic maps these onto it.
type Urgency string

const (
	Emergency Urgency = "emergency" // emergency care now (112 / päivystys)
	SameDay   Urgency = "same_day"  // assessment the same day
	FewDays   Urgency = "few_days"  // appointment within a few days
	SelfCare  Urgency = "self_care" // self-care and advice
)

// Levels lists the canonical scale, most urgent first.
var Levels = []Urgency{Emergency, SameDay, FewDays, SelfCare}

// Rank is the level's position in Levels (0 = most urgent), or -1 for an
// unknown level.
func (u Urgency) Rank() int { return slices.Index(Levels, u) }

// Valid reports whether u is a canonical level.
func (u Urgency) Valid() bool { return u.Rank() >= 0 }

// MoreUrgent returns the more urgent of a and b; an empty or unknown level
// counts as least urgent.
func MoreUrgent(a, b Urgency) Urgency {
	switch {
	case !a.Valid():
		return b
	case !b.Valid():
		return a
	case b.Rank() < a.Rank():
		return b
	}
	return a
}

// Text is a short text in Finnish, Swedish and English.
type Text struct {
	FI string `yaml:"fi" json:"fi"`
	SV string `yaml:"sv" json:"sv"`
	EN string `yaml:"en" json:"en"`
}

// In returns the text in lang, falling back to English.
func (t Text) In(lang string) string {
	switch lang {
	case "fi":
		return t.FI
	case "sv":
		return t.SV
	}
	return t.EN
}

// Source is a public document rules cite.
type Source struct {
	ID        string `yaml:"id" json:"id"`
	Title     string `yaml:"title" json:"title"`
	Publisher string `yaml:"publisher" json:"publisher"`
	URL       string `yaml:"url" json:"url"`
}

// SourceRef cites a source, optionally a section of it.
type SourceRef struct {
	ID      string `yaml:"id" json:"id"`
	Section string `yaml:"section,omitempty" json:"section,omitempty"`
}

// Citation is a resolved SourceRef.
type Citation struct {
	Source
	Section string `json:"section,omitempty"`
}

// Concept is a symptom or sign with its word patterns per language.
type Concept struct {
	ID    string   `yaml:"id" json:"id"`
	Title Text     `yaml:"title" json:"title"`
	FI    []string `yaml:"fi" json:"fi"`
	SV    []string `yaml:"sv" json:"sv"`
	EN    []string `yaml:"en" json:"en"`
}

// Rule raises a flag when every concept of All and, if Any is not empty,
// at least one concept of Any is asserted by the patient somewhere in the
// conversation.
type Rule struct {
	ID      string      `yaml:"id" json:"id"`
	Flag    string      `yaml:"flag" json:"flag"`
	Urgency Urgency     `yaml:"urgency" json:"urgency"`
	Title   Text        `yaml:"title" json:"title"`
	All     []string    `yaml:"all,omitempty" json:"all,omitempty"`
	Any     []string    `yaml:"any,omitempty" json:"any,omitempty"`
	Sources []SourceRef `yaml:"sources" json:"sources"`
}

// cueFile is rules/cues.yaml: phrases that change how a concept reads.
type cueFile struct {
	// Negation precedes the concept ("ei", "ingen", "no").
	Negation langLists `yaml:"negation"`
	// PostNegation follows it ("rintakipua ei ole").
	PostNegation langLists `yaml:"post_negation"`
	// Hypothetical precedes it ("in case I get").
	Hypothetical langLists `yaml:"hypothetical"`
	// History precedes it ("previously").
	History langLists `yaml:"history"`
	// Pseudo are phrases containing a negation word that do not negate
	// ("ei mene ohi", "won't go away"); a cue inside one is ignored.
	Pseudo langLists `yaml:"pseudo"`
	// Ambiguous cue words are words of another language too ("en" is a
	// Swedish article); they apply only when the message's language is
	// known to be theirs.
	Ambiguous []string `yaml:"ambiguous"`
}

type langLists struct {
	FI []string `yaml:"fi"`
	SV []string `yaml:"sv"`
	EN []string `yaml:"en"`
}

type manifest struct {
	Version  string   `yaml:"version"`
	Released string   `yaml:"released"`
	Title    string   `yaml:"title"`
	Sources  []Source `yaml:"sources"`
}

// Cue kinds, as reported on excluded matches.
const (
	CueNegation     = "negation"
	CueHypothetical = "hypothetical"
	CueHistory      = "history"
	cuePseudo       = "pseudo"
)

type cue struct {
	kind      string
	lang      string
	post      bool
	ambiguous bool
}

// Set is a loaded, validated and compiled rule set. It is immutable and
// safe for concurrent use.
type Set struct {
	version  string
	released string
	sources  map[string]Source
	srcOrder []string
	concepts []Concept
	conIdx   map[string]int
	rules    []Rule
	ruleAll  [][]int // concept indexes
	ruleAny  [][]int
	flags    []string
	con      *matcher
	cues     []cue
	cue      *matcher
	// negates[i] is false when concept pattern i itself spells a negation
	// word ("en saa henkeä"): only then is a negation inside its match
	// part of the symptom rather than a denial of it.
	negates []bool
}

// Version is the rule set's version: the manifest's semantic version and
// a hash of every file, e.g. "1.0.0+3f2a9c1b0d4e".
func (s *Set) Version() string { return s.version }

// Rules returns the rules in file order.
func (s *Set) Rules() []Rule { return slices.Clone(s.rules) }

// Concepts returns the concepts in file order.
func (s *Set) Concepts() []Concept { return slices.Clone(s.concepts) }

// Flags returns the distinct flag names in rule order.
func (s *Set) Flags() []string { return slices.Clone(s.flags) }

// Sources returns the cited sources in manifest order.
func (s *Set) Sources() []Source {
	out := make([]Source, len(s.srcOrder))
	for i, id := range s.srcOrder {
		out[i] = s.sources[id]
	}
	return out
}

// Cite resolves source references.
func (s *Set) Cite(refs []SourceRef) []Citation {
	out := make([]Citation, len(refs))
	for i, r := range refs {
		out[i] = Citation{Source: s.sources[r.ID], Section: r.Section}
	}
	return out
}

var (
	idRe   = regexp.MustCompile(`^RF-[A-Z0-9]+-[0-9]{2}$`)
	nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
	semver = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// Load reads manifest.yaml, cues.yaml, concepts.yaml and rules.yaml from
// fsys, validates them (every problem reported at once) and compiles the
// patterns.
func Load(fsys fs.FS) (*Set, error) {
	var (
		man   manifest
		cues  cueFile
		cons  []Concept
		rules []Rule
		probs []error
		h     = sha256.New()
	)
	for _, f := range []struct {
		name string
		v    any
	}{{"manifest.yaml", &man}, {"cues.yaml", &cues}, {"concepts.yaml", &cons}, {"rules.yaml", &rules}} {
		b, err := fs.ReadFile(fsys, f.name)
		if err != nil {
			return nil, fmt.Errorf("redflags.Load: %w", err)
		}
		h.Write([]byte(f.name))
		h.Write(b)
		if err := yaml.UnmarshalWithOptions(b, f.v, yaml.Strict()); err != nil {
			return nil, fmt.Errorf("redflags.Load: %s: %w", f.name, err)
		}
	}
	bad := func(format string, args ...any) { probs = append(probs, fmt.Errorf(format, args...)) }

	s := &Set{sources: map[string]Source{}, conIdx: map[string]int{}, con: newMatcher(), cue: newMatcher()}
	if !semver.MatchString(man.Version) {
		bad("manifest.yaml: version %q is not a semantic version", man.Version)
	}
	s.version = man.Version + "+" + hex.EncodeToString(h.Sum(nil))[:12]
	s.released = man.Released
	for _, src := range man.Sources {
		switch {
		case !nameRe.MatchString(src.ID):
			bad("manifest.yaml: source id %q must be lower_snake_case", src.ID)
		case s.sources[src.ID].ID != "":
			bad("manifest.yaml: duplicate source %q", src.ID)
		case src.Title == "" || src.Publisher == "" || !strings.HasPrefix(src.URL, "https://"):
			bad("manifest.yaml: source %q needs a title, a publisher and an https URL", src.ID)
		}
		s.sources[src.ID] = src
		s.srcOrder = append(s.srcOrder, src.ID)
	}

	amb := map[string]bool{}
	for _, w := range cues.Ambiguous {
		amb[w] = true
	}
	for _, kind := range []struct {
		name  string
		lists langLists
		post  bool
	}{{CueNegation, cues.Negation, false}, {CueNegation, cues.PostNegation, true},
		{CueHypothetical, cues.Hypothetical, false}, {CueHistory, cues.History, false}, {cuePseudo, cues.Pseudo, false}} {
		for _, ll := range []struct {
			lang string
			list []string
		}{{"fi", kind.lists.FI}, {"sv", kind.lists.SV}, {"en", kind.lists.EN}} {
			lang, list := ll.lang, ll.list
			for _, src := range list {
				p, err := compilePattern(src)
				if err != nil {
					bad("cues.yaml: %s.%s: %v", kind.name, lang, err)
					continue
				}
				s.cue.add(p, len(s.cues))
				s.cues = append(s.cues, cue{kind: kind.name, lang: lang, post: kind.post, ambiguous: amb[src]})
			}
		}
	}

	negWords := map[string]bool{}
	for _, l := range [][]string{cues.Negation.FI, cues.Negation.SV, cues.Negation.EN, cues.PostNegation.FI, cues.PostNegation.SV, cues.PostNegation.EN} {
		for _, w := range l {
			for _, f := range strings.Fields(w) {
				negWords[f] = true
			}
		}
	}
	for i, c := range cons {
		switch {
		case !nameRe.MatchString(c.ID):
			bad("concepts.yaml: concept id %q must be lower_snake_case", c.ID)
			continue
		case hasConcept(s.conIdx, c.ID):
			bad("concepts.yaml: duplicate concept %q", c.ID)
			continue
		case c.Title.FI == "" || c.Title.SV == "" || c.Title.EN == "":
			bad("concepts.yaml: %s: title needs fi, sv and en", c.ID)
		case len(c.FI) == 0 || len(c.SV) == 0 || len(c.EN) == 0:
			bad("concepts.yaml: %s: patterns are needed in fi, sv and en", c.ID)
		}
		s.conIdx[c.ID] = i
		s.concepts = append(s.concepts, c)
		for _, list := range [][]string{c.FI, c.SV, c.EN} {
			for _, src := range list {
				p, err := compilePattern(src)
				if err != nil {
					bad("concepts.yaml: %s: %v", c.ID, err)
					continue
				}
				s.con.add(p, i)
				s.negates = append(s.negates, !p.hasWord(negWords))
			}
		}
	}

	used := map[string]bool{}
	seenRule := map[string]bool{}
	for _, r := range rules {
		if !idRe.MatchString(r.ID) {
			bad("rules.yaml: rule id %q must look like RF-WORD-01", r.ID)
		}
		if seenRule[r.ID] {
			bad("rules.yaml: duplicate rule %q", r.ID)
		}
		seenRule[r.ID] = true
		if !nameRe.MatchString(r.Flag) {
			bad("rules.yaml: %s: flag %q must be lower_snake_case", r.ID, r.Flag)
		}
		if !r.Urgency.Valid() {
			bad("rules.yaml: %s: urgency %q is not one of %v", r.ID, r.Urgency, Levels)
		}
		if r.Title.FI == "" || r.Title.SV == "" || r.Title.EN == "" {
			bad("rules.yaml: %s: title needs fi, sv and en", r.ID)
		}
		if len(r.All)+len(r.Any) == 0 {
			bad("rules.yaml: %s: give concepts in all or any", r.ID)
		}
		if len(r.Sources) == 0 {
			bad("rules.yaml: %s: at least one public source is required", r.ID)
		}
		for _, ref := range r.Sources {
			if _, ok := s.sources[ref.ID]; !ok {
				bad("rules.yaml: %s: unknown source %q", r.ID, ref.ID)
			}
		}
		resolve := func(ids []string) []int {
			var out []int
			for _, id := range ids {
				i, ok := s.conIdx[id]
				if !ok {
					bad("rules.yaml: %s: unknown concept %q", r.ID, id)
					continue
				}
				used[id] = true
				out = append(out, i)
			}
			return out
		}
		s.rules = append(s.rules, r)
		s.ruleAll = append(s.ruleAll, resolve(r.All))
		s.ruleAny = append(s.ruleAny, resolve(r.Any))
		if !slices.Contains(s.flags, r.Flag) {
			s.flags = append(s.flags, r.Flag)
		}
	}
	for _, c := range s.concepts {
		if !used[c.ID] {
			bad("concepts.yaml: concept %q is used by no rule", c.ID)
		}
	}
	if len(s.rules) == 0 {
		bad("rules.yaml: no rules")
	}
	if len(probs) > 0 {
		sort.Slice(probs, func(i, j int) bool { return probs[i].Error() < probs[j].Error() })
		return nil, fmt.Errorf("redflags.Load: %w", errors.Join(probs...))
	}
	return s, nil
}

func hasConcept(m map[string]int, id string) bool { _, ok := m[id]; return ok }
