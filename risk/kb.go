package risk

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

	"github.com/soteai/gateway/assist"
)

// Severity grades a flag. The set is closed.
type Severity string

const (
	SeverityHigh     Severity = "high"
	SeverityModerate Severity = "moderate"
	SeverityLow      Severity = "low"
)

// rank orders severities for sorting: high first.
func (s Severity) rank() int {
	switch s {
	case SeverityHigh:
		return 0
	case SeverityModerate:
		return 1
	case SeverityLow:
		return 2
	}
	return 3
}

// Category groups rules for reporting and evaluation.
type Category string

const (
	CategoryInteraction     Category = "interaction"     // drug–drug interactions
	CategoryRenal           Category = "renal"           // dosing or contraindication by kidney function
	CategoryDrugDisease     Category = "drug_disease"    // drug–disease (ICD-10) interactions
	CategoryElderly         Category = "elderly_pim"     // potentially inappropriate in older adults
	CategoryAnticholinergic Category = "anticholinergic" // anticholinergic burden (ACB scale)
	CategoryFallRisk        Category = "fall_risk"       // fall-risk-increasing drugs (FRIDs)
	CategoryDuplication     Category = "duplication"     // therapeutic duplication
	CategoryDosing          Category = "dosing"          // dose by age, weight or co-medication (SmPC 4.2)
)

// Categories lists every category in display order.
var Categories = []Category{
	CategoryInteraction, CategoryRenal, CategoryDrugDisease, CategoryElderly,
	CategoryAnticholinergic, CategoryFallRisk, CategoryDuplication, CategoryDosing,
}

func (c Category) rank() int {
	if i := slices.Index(Categories, c); i >= 0 {
		return i
	}
	return len(Categories)
}

// Text is a bilingual text: English and Finnish.
type Text struct {
	EN string `yaml:"en" json:"en"`
	FI string `yaml:"fi" json:"fi"`
}

// In returns the text in lang ("fi" or "en"); Finnish falls back to English
// when empty and vice versa.
func (t Text) In(lang string) string {
	if lang == "fi" && t.FI != "" || t.EN == "" {
		return t.FI
	}
	return t.EN
}

// Source is a public reference the knowledge base cites.
type Source struct {
	ID       string `yaml:"id" json:"id"`
	Label    string `yaml:"label" json:"label"`       // short label for cards, e.g. "AGS Beers Criteria 2023"
	Citation string `yaml:"citation" json:"citation"` // full bibliographic citation
	URL      string `yaml:"url" json:"url"`
}

// SourceRef cites a Source from a rule, optionally with a section.
type SourceRef struct {
	ID      string `yaml:"id" json:"id"`
	Section string `yaml:"section,omitempty" json:"section,omitempty"`
}

// Drug is one substance of the catalogue.
type Drug struct {
	ATC     string   `yaml:"atc" json:"atc"`
	NameEN  string   `yaml:"en" json:"name_en"`
	NameFI  string   `yaml:"fi" json:"name_fi"`
	Brands  []string `yaml:"brands,omitempty" json:"brands,omitempty"`
	Aliases []string `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	// ACB is the Anticholinergic Cognitive Burden score (0–3).
	ACB int `yaml:"acb,omitempty" json:"acb"`

	// Classes lists the ids of the classes the drug belongs to (derived at
	// load from the class definitions, sorted).
	Classes []string `yaml:"-" json:"classes"`
	// FRIDClasses lists the fall-risk-increasing drug classes among Classes.
	FRIDClasses []string `yaml:"-" json:"frid_classes,omitempty"`
}

// Class is a named group of drugs defined by ATC codes or code prefixes
// (any level), minus exceptions.
type Class struct {
	ID      string   `yaml:"id" json:"id"`
	Name    Text     `yaml:"name" json:"name"`
	Members []string `yaml:"members" json:"members"`
	Except  []string `yaml:"except,omitempty" json:"except,omitempty"`
	// FRID marks a fall-risk-increasing drug class (STOPPFall).
	FRID bool `yaml:"frid,omitempty" json:"frid,omitempty"`
}

// Selector picks drugs from the medication list. A drug matches when it is
// in any listed class, or its code starts with any listed ATC prefix, or
// (when set) its ACB score is at least ACBMin, or (when set) it is in a
// FRID class; and it is not excluded by Except. NewOnly restricts the
// match to drugs being started now (draft orders).
type Selector struct {
	Classes []string `yaml:"classes,omitempty" json:"classes,omitempty"`
	ATC     []string `yaml:"atc,omitempty" json:"atc,omitempty"`
	Except  []string `yaml:"except,omitempty" json:"except,omitempty"`
	ACBMin  int      `yaml:"acb_min,omitempty" json:"acb_min,omitempty"`
	FRID    bool     `yaml:"frid,omitempty" json:"frid,omitempty"`
	NewOnly bool     `yaml:"new_only,omitempty" json:"new_only,omitempty"`
}

// When holds a rule's patient conditions; all set fields must hold.
// Kidney thresholds are in ml/min (/1.73 m² for eGFR).
type When struct {
	AgeMin        *int     `yaml:"age_min,omitempty" json:"age_min,omitempty"`
	AgeMax        *int     `yaml:"age_max,omitempty" json:"age_max,omitempty"`
	KidneyBelow   *float64 `yaml:"kidney_below,omitempty" json:"kidney_below,omitempty"`
	KidneyAtLeast *float64 `yaml:"kidney_at_least,omitempty" json:"kidney_at_least,omitempty"`
	KidneyAtMost  *float64 `yaml:"kidney_at_most,omitempty" json:"kidney_at_most,omitempty"`
	// KidneyMeasure is "egfr" (default) or "crcl": Cockcroft–Gault
	// creatinine clearance when it can be computed, else eGFR (product
	// information for DOACs and enoxaparin uses CrCl).
	KidneyMeasure  string   `yaml:"kidney_measure,omitempty" json:"kidney_measure,omitempty"`
	ConditionsAny  []string `yaml:"conditions_any,omitempty" json:"conditions_any,omitempty"`
	ConditionsNone []string `yaml:"conditions_none,omitempty" json:"conditions_none,omitempty"`
	Falls          *bool    `yaml:"falls,omitempty" json:"falls,omitempty"`
	// WeightAtMost (kg) and CreatinineAtLeast (µmol/l) are the SmPC dose
	// criteria of some anticoagulants.
	WeightAtMost      *float64 `yaml:"weight_at_most,omitempty" json:"weight_at_most,omitempty"`
	CreatinineAtLeast *float64 `yaml:"creatinine_at_least,omitempty" json:"creatinine_at_least,omitempty"`
	// AtLeast holds when at least N of its conditions hold (e.g. two of
	// age ≥ 80, weight ≤ 60 kg, creatinine ≥ 133 µmol/l). Its conditions
	// may use ages, weight, creatinine and kidney thresholds.
	AtLeast *AtLeast `yaml:"at_least,omitempty" json:"at_least,omitempty"`
}

// Use holds conditions on how a matched medicine is used. In a drugs
// rule they apply to the first slot; in count and duplicate rules only
// Regular is allowed and filters the medicines counted.
type Use struct {
	// DailyAbove fires when the resolved daily dose (its upper end, as
	// the prescription allows it) is above this many Unit ("mg" when
	// empty). An unknown daily dose makes the rule "not assessable:
	// needs the dose", never a guess.
	DailyAbove *float64 `yaml:"daily_above,omitempty" json:"daily_above,omitempty"`
	Unit       string   `yaml:"unit,omitempty" json:"unit,omitempty"`
	// MinDays fires when the medicine has been (or is to be) used at
	// least this many days; unknown duration makes the rule not assessable.
	MinDays *float64 `yaml:"min_days,omitempty" json:"min_days,omitempty"`
	// Regular restricts the rule to regular (not as-needed) use. A
	// medicine without dosing information counts as regular, as
	// medication lists list regular medicines unless marked otherwise.
	Regular bool `yaml:"regular,omitempty" json:"regular,omitempty"`
	// AsNeeded restricts the rule to as-needed use.
	AsNeeded bool `yaml:"as_needed,omitempty" json:"as_needed,omitempty"`
}

// AtLeast is an "N of these" patient condition.
type AtLeast struct {
	N  int    `yaml:"n" json:"n"`
	Of []When `yaml:"of" json:"of"`
}

// Count fires when at least Min distinct substances match Of.
type Count struct {
	Min int      `yaml:"min" json:"min"`
	Of  Selector `yaml:"of" json:"of"`
}

// Rule is one cited risk rule. Exactly one matcher is set: Drugs (one
// selector per slot, each filled by a different drug unless AllowSameDrug),
// Count, ACBTotalMin, or Duplicate ("atc4": two substances in the same ATC
// level-4 group; "substance": the same substance listed twice).
type Rule struct {
	ID       string   `yaml:"id" json:"id"`
	Category Category `yaml:"category" json:"category"`
	Severity Severity `yaml:"severity" json:"severity"`
	Title    Text     `yaml:"title" json:"title"`

	Drugs         []Selector `yaml:"drugs,omitempty" json:"drugs,omitempty"`
	AllowSameDrug bool       `yaml:"allow_same_drug,omitempty" json:"allow_same_drug,omitempty"`
	Unless        []Selector `yaml:"unless,omitempty" json:"unless,omitempty"`
	Count         *Count     `yaml:"count,omitempty" json:"count,omitempty"`
	ACBTotalMin   int        `yaml:"acb_total_min,omitempty" json:"acb_total_min,omitempty"`
	Duplicate     string     `yaml:"duplicate,omitempty" json:"duplicate,omitempty"`
	ExceptGroups  []string   `yaml:"except_groups,omitempty" json:"except_groups,omitempty"`

	// When holds conditions on the patient; Use conditions on how the
	// matched medicine is used (dose, regular or as needed, duration).
	When       When     `yaml:"when,omitempty" json:"when"`
	Use        *Use     `yaml:"use,omitempty" json:"use,omitempty"`
	Supersedes []string `yaml:"supersedes,omitempty" json:"supersedes,omitempty"`

	Mechanism   string      `yaml:"mechanism" json:"mechanism"`
	Explanation Text        `yaml:"explanation" json:"explanation"`
	Action      Text        `yaml:"action" json:"action"`
	Sources     []SourceRef `yaml:"sources" json:"sources"`
}

// manifest is kb/manifest.yaml.
type manifest struct {
	Version  string   `yaml:"version"`
	Released string   `yaml:"released"`
	Title    string   `yaml:"title"`
	Sources  []Source `yaml:"sources"`
}

// KB is a loaded, validated and indexed knowledge base. It is immutable
// and safe for concurrent use.
type KB struct {
	version  string
	released string
	sources  map[string]Source
	drugs    []Drug
	byATC    map[string]int
	classes  []Class
	classIdx map[string]int
	rules    []*compiledRule
	ruleIdx  map[string]int
	names    map[string]nameHit
	// drugMask caches class membership of catalogue drugs.
	drugMask map[string]classSet
	// sourceOrder keeps sources in manifest order for listings.
	sourceOrder []string
}

// Version is the knowledge-base version: the semantic version from the
// manifest plus a content hash of every file, e.g. "1.0.0+3f2a9c1b0d4e".
// It is recorded with every assessment.
func (kb *KB) Version() string { return kb.version }

// Released is the release date from the manifest (YYYY-MM-DD).
func (kb *KB) Released() string { return kb.released }

// Drug returns the catalogue entry for a level-5 ATC code.
func (kb *KB) Drug(atc string) (Drug, bool) {
	i, ok := kb.byATC[atc]
	if !ok {
		return Drug{}, false
	}
	return kb.drugs[i], true
}

// Drugs returns the catalogue in file order.
func (kb *KB) Drugs() []Drug { return slices.Clone(kb.drugs) }

// Classes returns the class definitions in file order.
func (kb *KB) Classes() []Class { return slices.Clone(kb.classes) }

// Rules returns the rules in load order (files by name, then file order).
func (kb *KB) Rules() []Rule {
	out := make([]Rule, len(kb.rules))
	for i, r := range kb.rules {
		out[i] = r.Rule
	}
	return out
}

// Rule returns a rule by id.
func (kb *KB) Rule(id string) (Rule, bool) {
	i, ok := kb.ruleIdx[id]
	if !ok {
		return Rule{}, false
	}
	return kb.rules[i].Rule, true
}

// Source returns a cited source by id.
func (kb *KB) Source(id string) (Source, bool) {
	s, ok := kb.sources[id]
	return s, ok
}

// Sources returns the cited sources in manifest order.
func (kb *KB) Sources() []Source {
	out := make([]Source, 0, len(kb.sourceOrder))
	for _, id := range kb.sourceOrder {
		out = append(out, kb.sources[id])
	}
	return out
}

// Info summarises a knowledge base for the API and the audit log.
type Info struct {
	Version  string `json:"version"`
	Released string `json:"released"`
	Drugs    int    `json:"drugs"`
	Classes  int    `json:"classes"`
	Rules    int    `json:"rules"`
	Sources  int    `json:"sources"`
	// RulesByCategory counts rules per category.
	RulesByCategory map[Category]int `json:"rules_by_category"`
}

// Info returns counts and the version.
func (kb *KB) Info() Info {
	in := Info{
		Version: kb.version, Released: kb.released,
		Drugs: len(kb.drugs), Classes: len(kb.classes), Rules: len(kb.rules), Sources: len(kb.sources),
		RulesByCategory: map[Category]int{},
	}
	for _, r := range kb.rules {
		in.RulesByCategory[r.Category]++
	}
	return in
}

// Knowledge-base file layout inside the FS given to LoadKB.
const (
	kbManifest = "manifest.yaml"
	kbDrugs    = "drugs.yaml"
	kbClasses  = "classes.yaml"
	kbRulesDir = "rules"
)

var (
	semverRe = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	idRe     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	ruleIDRe = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$`)
	dateRe   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// maxClasses bounds the class count so class membership fits a classSet.
const maxClasses = 64 * len(classSet{})

// LoadKB reads, validates and indexes a knowledge base from fsys, which
// holds manifest.yaml, drugs.yaml, classes.yaml and rules/*.yaml. Every
// problem found is reported, one per line, in the error's cause; the error
// kind is internal because a broken knowledge base is an operator fault.
func LoadKB(fsys fs.FS) (*KB, error) {
	const op = "risk.LoadKB"
	fail := func(err error) (*KB, error) {
		return nil, assist.E(assist.KindInternal, op, "the medication knowledge base is invalid", err)
	}
	files := []string{kbManifest, kbDrugs, kbClasses}
	ruleFiles, err := fs.Glob(fsys, kbRulesDir+"/*.yaml")
	if err != nil {
		return fail(err)
	}
	sort.Strings(ruleFiles)
	if len(ruleFiles) == 0 {
		return fail(errors.New("no rule files under rules/"))
	}
	files = append(files, ruleFiles...)

	h := sha256.New()
	raw := map[string][]byte{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", f, err))
		}
		raw[f] = b
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}

	var (
		m       manifest
		drugs   []Drug
		classes []Class
		rules   []Rule
		probs   []error
	)
	decode := func(f string, v any) bool {
		if err := yaml.UnmarshalWithOptions(raw[f], v, yaml.Strict()); err != nil {
			probs = append(probs, fmt.Errorf("%s: %s", f, yaml.FormatError(err, false, false)))
			return false
		}
		return true
	}
	decode(kbManifest, &m)
	decode(kbDrugs, &drugs)
	decode(kbClasses, &classes)
	for _, f := range ruleFiles {
		var rs []Rule
		if decode(f, &rs) {
			rules = append(rules, rs...)
		}
	}
	if len(probs) > 0 {
		return fail(errors.Join(probs...))
	}

	kb := &KB{
		released: m.Released,
		sources:  map[string]Source{},
		byATC:    map[string]int{},
		classIdx: map[string]int{},
		ruleIdx:  map[string]int{},
		names:    map[string]nameHit{},
		drugMask: map[string]classSet{},
	}
	v := &validator{}
	kb.loadManifest(v, m)
	kb.loadClasses(v, classes)
	kb.loadDrugs(v, drugs)
	kb.loadRules(v, rules)
	if len(v.probs) > 0 {
		return fail(errors.Join(v.probs...))
	}
	kb.version = m.Version + "+" + hex.EncodeToString(h.Sum(nil))[:12]
	return kb, nil
}

// validator collects problems.
type validator struct{ probs []error }

func (v *validator) addf(format string, args ...any) {
	v.probs = append(v.probs, fmt.Errorf(format, args...))
}

func (kb *KB) loadManifest(v *validator, m manifest) {
	if !semverRe.MatchString(m.Version) {
		v.addf("%s: version %q is not a semantic version (MAJOR.MINOR.PATCH)", kbManifest, m.Version)
	}
	if !dateRe.MatchString(m.Released) {
		v.addf("%s: released %q is not a YYYY-MM-DD date", kbManifest, m.Released)
	}
	if len(m.Sources) == 0 {
		v.addf("%s: no sources", kbManifest)
	}
	for i, s := range m.Sources {
		where := fmt.Sprintf("%s: sources[%d]", kbManifest, i)
		switch {
		case !idRe.MatchString(s.ID):
			v.addf("%s: id %q must be lower_snake_case", where, s.ID)
			continue
		case kb.sources[s.ID].ID != "":
			v.addf("%s: duplicate source id %q", where, s.ID)
			continue
		}
		if s.Label == "" || s.Citation == "" {
			v.addf("%s (%s): label and citation are required", where, s.ID)
		}
		if !strings.HasPrefix(s.URL, "https://") {
			v.addf("%s (%s): url must be an https:// address", where, s.ID)
		}
		kb.sources[s.ID] = s
		kb.sourceOrder = append(kb.sourceOrder, s.ID)
	}
}

func (kb *KB) loadClasses(v *validator, classes []Class) {
	if len(classes) > maxClasses {
		v.addf("%s: %d classes; at most %d are supported", kbClasses, len(classes), maxClasses)
		return
	}
	for i, c := range classes {
		where := fmt.Sprintf("%s: class %q", kbClasses, c.ID)
		if !idRe.MatchString(c.ID) {
			v.addf("%s: classes[%d] id %q must be lower_snake_case", kbClasses, i, c.ID)
			continue
		}
		if _, dup := kb.classIdx[c.ID]; dup {
			v.addf("%s: duplicate class id", where)
			continue
		}
		if c.Name.EN == "" || c.Name.FI == "" {
			v.addf("%s: name needs en and fi", where)
		}
		if len(c.Members) == 0 {
			v.addf("%s: no members", where)
		}
		for _, code := range append(slices.Clone(c.Members), c.Except...) {
			if !ValidATC(code) {
				v.addf("%s: %q is not a well-formed ATC code", where, code)
			}
		}
		kb.classIdx[c.ID] = len(kb.classes)
		kb.classes = append(kb.classes, c)
	}
}

func (kb *KB) loadDrugs(v *validator, drugs []Drug) {
	for i, d := range drugs {
		where := fmt.Sprintf("%s: drug %q", kbDrugs, d.ATC)
		if !ValidSubstanceATC(d.ATC) {
			v.addf("%s: drugs[%d] atc %q is not a well-formed level-5 ATC code", kbDrugs, i, d.ATC)
			continue
		}
		if _, dup := kb.byATC[d.ATC]; dup {
			v.addf("%s: duplicate ATC code", where)
			continue
		}
		if d.NameEN == "" || d.NameFI == "" {
			v.addf("%s: en and fi names are required", where)
		}
		if d.ACB < 0 || d.ACB > 3 {
			v.addf("%s: acb %d is outside 0–3", where, d.ACB)
		}
		set := kb.classSetFor(d.ATC)
		d.Classes, d.FRIDClasses = nil, nil
		for ci, c := range kb.classes {
			if set.has(ci) {
				d.Classes = append(d.Classes, c.ID)
				if c.FRID {
					d.FRIDClasses = append(d.FRIDClasses, c.ID)
				}
			}
		}
		sort.Strings(d.Classes)
		sort.Strings(d.FRIDClasses)
		kb.byATC[d.ATC] = len(kb.drugs)
		kb.drugMask[d.ATC] = set
		kb.drugs = append(kb.drugs, d)

		kb.addName(v, where, d.NameEN, nameHit{d.ATC, MatchNameEN})
		kb.addName(v, where, d.NameFI, nameHit{d.ATC, MatchNameFI})
		for _, b := range d.Brands {
			kb.addName(v, where, b, nameHit{d.ATC, MatchBrand})
		}
		for _, a := range d.Aliases {
			kb.addName(v, where, a, nameHit{d.ATC, MatchAlias})
		}
	}
}

// addName indexes a name; the same name may not point at two substances.
func (kb *KB) addName(v *validator, where, name string, hit nameHit) {
	key := normalizeName(name)
	if key == "" {
		v.addf("%s: empty name", where)
		return
	}
	if prev, ok := kb.names[key]; ok {
		if prev.atc != hit.atc {
			v.addf("%s: name %q is already used by %s", where, name, prev.atc)
		}
		return // same substance: keep the first (generic names come first)
	}
	kb.names[key] = hit
}

// classSetFor computes class membership of any well-formed ATC code.
func (kb *KB) classSetFor(atc string) classSet {
	var s classSet
	for i, c := range kb.classes {
		if matchesPrefix(atc, c.Members) && !matchesPrefix(atc, c.Except) {
			s.set(i)
		}
	}
	return s
}

// maskFor returns class membership, cached for catalogue drugs.
func (kb *KB) maskFor(atc string) classSet {
	if s, ok := kb.drugMask[atc]; ok {
		return s
	}
	return kb.classSetFor(atc)
}

func matchesPrefix(atc string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(atc, p) {
			return true
		}
	}
	return false
}

func (kb *KB) loadRules(v *validator, rules []Rule) {
	for i, r := range rules {
		where := fmt.Sprintf("rule %q", r.ID)
		if !ruleIDRe.MatchString(r.ID) {
			v.addf("rules[%d]: id %q must look like ABC-DEF-01 (upper case, dash-separated)", i, r.ID)
			continue
		}
		if _, dup := kb.ruleIdx[r.ID]; dup {
			v.addf("%s: duplicate rule id", where)
			continue
		}
		if r.Category.rank() >= len(Categories) {
			v.addf("%s: unknown category %q", where, r.Category)
		}
		if r.Severity.rank() > 2 {
			v.addf("%s: severity %q must be high, moderate or low", where, r.Severity)
		}
		if r.Title.EN == "" || r.Title.FI == "" {
			v.addf("%s: title needs en and fi", where)
		}
		if len([]rune(r.Title.EN)) > 90 || len([]rune(r.Title.FI)) > 90 {
			v.addf("%s: title longer than 90 characters (cards allow 140 with drug names)", where)
		}
		if r.Explanation.EN == "" || r.Explanation.FI == "" {
			v.addf("%s: explanation needs en and fi", where)
		}
		if r.Action.EN == "" || r.Action.FI == "" {
			v.addf("%s: action needs en and fi", where)
		}
		if r.Mechanism == "" {
			v.addf("%s: mechanism is required", where)
		}
		if len(r.Sources) == 0 {
			v.addf("%s: no source; every rule must cite a public source", where)
		}
		for _, s := range r.Sources {
			if _, ok := kb.sources[s.ID]; !ok {
				v.addf("%s: source %q is not defined in %s", where, s.ID, kbManifest)
			}
		}
		cr := &compiledRule{Rule: r}
		kb.compileRule(v, where, cr)
		kb.ruleIdx[r.ID] = len(kb.rules)
		kb.rules = append(kb.rules, cr)
	}
	for _, cr := range kb.rules {
		for _, s := range cr.Supersedes {
			if _, ok := kb.ruleIdx[s]; !ok || s == cr.ID {
				v.addf("rule %q: supersedes unknown rule %q", cr.ID, s)
			}
		}
	}
}

func (kb *KB) compileRule(v *validator, where string, cr *compiledRule) {
	r := &cr.Rule
	matchers := 0
	if len(r.Drugs) > 0 {
		matchers++
		if len(r.Drugs) > 4 {
			v.addf("%s: at most 4 drug slots", where)
		}
		for i, s := range r.Drugs {
			cr.slots = append(cr.slots, kb.compileSelector(v, fmt.Sprintf("%s: drugs[%d]", where, i), s))
		}
	}
	if r.Count != nil {
		matchers++
		if r.Count.Min < 2 {
			v.addf("%s: count.min must be at least 2", where)
		}
		cs := kb.compileSelector(v, where+": count.of", r.Count.Of)
		cr.count = &cs
	}
	if r.ACBTotalMin != 0 {
		matchers++
		if r.ACBTotalMin < 1 {
			v.addf("%s: acb_total_min must be positive", where)
		}
	}
	if r.Duplicate != "" {
		matchers++
		if r.Duplicate != "atc4" && r.Duplicate != "substance" {
			v.addf("%s: duplicate must be atc4 or substance", where)
		}
	}
	if matchers != 1 {
		v.addf("%s: exactly one of drugs, count, acb_total_min or duplicate must be set (found %d)", where, matchers)
	}
	if len(r.ExceptGroups) > 0 && r.Duplicate != "atc4" {
		v.addf("%s: except_groups only applies to duplicate: atc4", where)
	}
	for _, g := range r.ExceptGroups {
		if len(g) != 5 || !ValidATC(g) {
			v.addf("%s: except_groups %q is not a level-4 ATC group", where, g)
		}
	}
	for i, s := range r.Unless {
		cr.unless = append(cr.unless, kb.compileSelector(v, fmt.Sprintf("%s: unless[%d]", where, i), s))
	}
	w := r.When
	if w.AgeMin != nil && (*w.AgeMin < 0 || *w.AgeMin > 130) || w.AgeMax != nil && (*w.AgeMax < 0 || *w.AgeMax > 130) {
		v.addf("%s: age bounds outside 0–130", where)
	}
	for _, k := range []*float64{w.KidneyBelow, w.KidneyAtLeast, w.KidneyAtMost} {
		if k != nil && (*k <= 0 || *k > 200) {
			v.addf("%s: kidney threshold %v outside 0–200 ml/min", where, *k)
		}
	}
	switch w.KidneyMeasure {
	case "", "egfr", "crcl":
	default:
		v.addf("%s: kidney_measure must be egfr or crcl", where)
	}
	if w.KidneyMeasure != "" && !cr.needsKidney() {
		v.addf("%s: kidney_measure set without a kidney threshold", where)
	}
	if u := r.Use; u != nil {
		switch {
		case u.DailyAbove == nil && u.MinDays == nil && !u.Regular && !u.AsNeeded:
			v.addf("%s: use sets no condition", where)
		case u.Regular && u.AsNeeded:
			v.addf("%s: use.regular and use.as_needed exclude each other", where)
		case len(r.Drugs) == 0 && (u.DailyAbove != nil || u.MinDays != nil):
			v.addf("%s: use.daily_above and use.min_days need a drugs matcher", where)
		case u.DailyAbove != nil && !(*u.DailyAbove > 0):
			v.addf("%s: use.daily_above must be positive", where)
		case u.MinDays != nil && !(*u.MinDays > 0):
			v.addf("%s: use.min_days must be positive", where)
		}
		switch u.Unit {
		case "", "mg", "IU":
		default:
			v.addf("%s: use.unit must be mg or IU", where)
		}
		if r.ACBTotalMin != 0 {
			v.addf("%s: use does not apply to acb_total_min", where)
		}
	}
	if al := w.AtLeast; al != nil {
		if al.N < 1 || al.N > len(al.Of) {
			v.addf("%s: at_least.n must be between 1 and the number of conditions", where)
		}
		for i, sw := range al.Of {
			if len(sw.ConditionsAny) > 0 || len(sw.ConditionsNone) > 0 || sw.Falls != nil || sw.AtLeast != nil || sw.KidneyMeasure != "" {
				v.addf("%s: at_least.of[%d] may use ages, weight, creatinine and eGFR thresholds only", where, i)
			}
			if sw.describe() == "" && sw.AgeMax == nil && sw.KidneyAtLeast == nil && sw.KidneyAtMost == nil {
				v.addf("%s: at_least.of[%d] sets no condition", where, i)
			}
		}
	}
	for _, x := range []*float64{w.WeightAtMost, w.CreatinineAtLeast} {
		if x != nil && !(*x > 0 && *x < 3000) {
			v.addf("%s: weight_at_most or creatinine_at_least out of range", where)
		}
	}
	cr.condAny = kb.compileICD(v, where+": conditions_any", w.ConditionsAny)
	cr.condNone = kb.compileICD(v, where+": conditions_none", w.ConditionsNone)
}

func (kb *KB) compileICD(v *validator, where string, codes []string) []string {
	var out []string
	for _, c := range codes {
		n := NormalizeICD10(c)
		if len(n) != 1 {
			v.addf("%s: %q is not a single well-formed ICD-10 code", where, c)
			continue
		}
		out = append(out, n[0])
	}
	return out
}

func (kb *KB) compileSelector(v *validator, where string, s Selector) compiledSelector {
	cs := compiledSelector{atc: s.ATC, except: s.Except, acbMin: s.ACBMin, frid: s.FRID, newOnly: s.NewOnly}
	if len(s.Classes) == 0 && len(s.ATC) == 0 && s.ACBMin == 0 && !s.FRID {
		v.addf("%s: selector matches nothing (set classes, atc, acb_min or frid)", where)
	}
	for _, id := range s.Classes {
		i, ok := kb.classIdx[id]
		if !ok {
			v.addf("%s: class %q is not defined in %s", where, id, kbClasses)
			continue
		}
		cs.classes.set(i)
	}
	for _, code := range append(slices.Clone(s.ATC), s.Except...) {
		if !ValidATC(code) {
			v.addf("%s: %q is not a well-formed ATC code", where, code)
		}
	}
	if s.ACBMin < 0 || s.ACBMin > 3 {
		v.addf("%s: acb_min outside 1–3", where)
	}
	if s.FRID {
		for i, c := range kb.classes {
			if c.FRID {
				cs.fridMask.set(i)
			}
		}
	}
	return cs
}
