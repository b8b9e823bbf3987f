package grounding

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/risk"
)

// Source is one piece of evidence a draft may rest on: a transcript turn
// (Speaker set), a span of a free note, or a structured fact rendered as
// text ("MedicationStatement/12: metformin 500 mg twice daily").
type Source struct {
	ID      string `json:"id"`
	Speaker string `json:"speaker,omitempty"`
	Text    string `json:"text"`
}

// Sentence is one sentence of a draft, with the ids of the sources it
// cites (none: the checker compares it with every source and proposes the
// best-supporting ones).
type Sentence struct {
	ID    string   `json:"id"`
	Text  string   `json:"text"`
	Cites []string `json:"cites,omitempty"`
}

// FlagType names what a flag is about.
type FlagType string

// The flag types.
const (
	FlagMedication FlagType = "medication" // a drug the sources do not name
	FlagDose       FlagType = "dose"       // an amount with a unit the sources do not give (after conversion)
	FlagFrequency  FlagType = "frequency"  // how often, differing from or absent in the sources
	FlagNumber     FlagType = "number"     // a number (digits or words) absent from the sources
	FlagDate       FlagType = "date"       // a date, weekday or relative day absent from the sources
	FlagLaterality FlagType = "laterality" // left/right/both differing from the sources
	FlagNegation   FlagType = "negation"   // present in the draft but denied in the sources, or the reverse
	FlagAllergy    FlagType = "allergy"    // an allergy (or its absence) the sources do not state
	FlagFinding    FlagType = "finding"    // a finding, symptom, body site, test or vital the sources never mention
	FlagCitation   FlagType = "citation"   // a cited id that is not a source
)

// Flag is one reason a sentence is not supported.
type Flag struct {
	Type FlagType `json:"type"`
	// Text is the part of the sentence at fault.
	Text string `json:"text"`
	// Evidence says what the compared sources state instead ("not
	// mentioned", or the differing values with their source ids).
	Evidence string `json:"evidence"`
	// Sources lists the ids of the sources the evidence comes from.
	Sources []string `json:"sources,omitempty"`
}

// Result is the verdict on one sentence.
type Result struct {
	ID        string `json:"id"`
	Supported bool   `json:"supported"`
	Flags     []Flag `json:"flags"`
	// Cites are the sentence's own citations, or when it gave none, the
	// sources proposed as its best support (possibly none).
	Cites []string `json:"cites"`
	// Proposed is true when Cites were proposed by the checker.
	Proposed bool `json:"proposed,omitempty"`
}

// Languages the checker reads.
var Languages = []string{"fi", "sv", "en"}

// Checker checks drafts against their sources. It is immutable after New
// and safe for concurrent use.
type Checker struct {
	lex   *lexicon
	nums  *numberParser
	numSv *numberParser
	units map[string]unitInfo
	meds  *medIndex
	// catalogue is the catalogue's version, when it has one
	catalogue string
}

// Catalogue is the substance catalogue the checker reads drug names from;
// *risk.KB implements it.
type Catalogue interface {
	Drugs() []risk.Drug
}

// New returns a checker reading drug names (generic, Finnish, brands,
// aliases) from the catalogue.
func New(cat Catalogue) *Checker {
	c := &Checker{lex: newLexicon(), nums: newNumberParser(), numSv: newNumberParser(), units: newUnits()}
	c.numSv.sv = true
	var drugs []risk.Drug
	if cat != nil {
		drugs = cat.Drugs()
		if v, ok := cat.(versioned); ok {
			c.catalogue = v.Version()
		}
	}
	c.meds = newMedIndex(drugs)
	return c
}

// evidence is every source analysed once, with indexes for look-ups.
type evidence struct {
	srcs   []Source
	an     []*analysis
	byID   map[string]int
	byKey  map[string][]wref // content words by prefixKey
	byCon  map[uint16][]wref // concept → mentions (composites add their parts)
	allowN int
}

type wref struct {
	src  int32
	word int32
	pol  pol
}

// Check checks every sentence of draft against sources. lang is the
// language of the texts ("fi", "sv" or "en"); it decides the few words
// that differ by language ("no" is "well" in Finnish talk, "sex" is six in
// Swedish). It returns an error of kind invalid for an unknown language,
// no sources, or empty or duplicate ids.
func (c *Checker) Check(lang string, sources []Source, draft []Sentence) ([]Result, error) {
	const op = "grounding.Check"
	if !validLang(lang) {
		return nil, assist.E(assist.KindInvalid, op, "lang must be one of fi, sv, en")
	}
	if len(sources) == 0 {
		return nil, assist.E(assist.KindInvalid, op, "no sources to check against")
	}
	ev := &evidence{srcs: sources, byID: make(map[string]int, len(sources)), byKey: map[string][]wref{}, byCon: map[uint16][]wref{}}
	for i, s := range sources {
		if s.ID == "" {
			return nil, assist.E(assist.KindInvalid, op, fmt.Sprintf("source %d has no id", i+1))
		}
		if _, dup := ev.byID[s.ID]; dup {
			return nil, assist.E(assist.KindInvalid, op, "duplicate source id "+strconv.Quote(s.ID))
		}
		ev.byID[s.ID] = i
	}
	seen := make(map[string]bool, len(draft))
	for i, s := range draft {
		if s.ID == "" {
			return nil, assist.E(assist.KindInvalid, op, fmt.Sprintf("sentence %d has no id", i+1))
		}
		if seen[s.ID] {
			return nil, assist.E(assist.KindInvalid, op, "duplicate sentence id "+strconv.Quote(s.ID))
		}
		seen[s.ID] = true
	}
	c.buildEvidence(ev, lang)
	out := make([]Result, len(draft))
	for i, s := range draft {
		out[i] = c.checkSentence(ev, lang, s)
	}
	return out, nil
}

func validLang(l string) bool {
	for _, x := range Languages {
		if x == l {
			return true
		}
	}
	return false
}

func (c *Checker) buildEvidence(ev *evidence, lang string) {
	ev.an = make([]*analysis, len(ev.srcs))
	for i, s := range ev.srcs {
		ev.an[i] = c.analyze(s.Text, lang, s.Speaker != "")
	}
	// a question's polarity comes from the answer in the next source
	for i, a := range ev.an {
		if a.qStart < 0 {
			continue
		}
		ans := polUnknown
		if i+1 < len(ev.an) && ev.an[i+1].hasAns && (ev.srcs[i+1].Speaker == "" || ev.srcs[i+1].Speaker != ev.srcs[i].Speaker) {
			ans = ev.an[i+1].answer
			if a.qNeg {
				// "no fever?" — "no": none; "yes": unclear
				if ans == polNeg {
					ans = polNeg
				} else {
					ans = polUnknown
				}
			}
		}
		var nextAn *analysis
		if i+1 < len(ev.an) {
			nextAn = ev.an[i+1]
		}
		for k := range a.words {
			if a.words[k].tok >= a.qStart {
				if a.qNeg && ans == polNeg || !a.qNeg {
					a.words[k].pol = ans
				} else {
					a.words[k].pol = polUnknown
				}
				// "Any breathlessness or sweating?" "A bit winded, but no
				// sweating." — the answer speaks for the terms it repeats
				if nextAn != nil && c.mentions(nextAn, a.words[k]) {
					a.words[k].pol = polUnknown
				}
			}
		}
		for k := range a.allergies {
			if a.allergies[k].tok >= a.qStart {
				a.allergies[k].pol = ans
				// "Any allergies?" "Penicillin." — the answer names the allergen
				if ans != polNeg && i+1 < len(ev.an) {
					for _, m := range ev.an[i+1].meds {
						a.allergies[k].meds = append(a.allergies[k].meds, medKey(m))
					}
					for _, w := range ev.an[i+1].words {
						if !allergyFiller[w.w] {
							a.allergies[k].words = append(a.allergies[k].words, w.w)
						}
					}
					if len(ev.an[i+1].meds)+len(ev.an[i+1].words) > 0 && ans == polUnknown {
						a.allergies[k].pol = polPos
					}
				}
			}
		}
		for k := range a.meds {
			if a.meds[k].tok >= a.qStart {
				a.meds[k].pol = ans
			}
		}
	}
	for _, a := range ev.an {
		a.derived = derivedQuantities(a)
	}
	for si, a := range ev.an {
		for wi, w := range a.words {
			r := wref{src: int32(si), word: int32(wi), pol: w.pol}
			k := prefixKey(w.w)
			ev.byKey[k] = append(ev.byKey[k], r)
			for _, cid := range w.concepts {
				ev.byCon[cid] = append(ev.byCon[cid], r)
				for _, p := range c.lex.concepts[cid].parts {
					ev.byCon[p] = append(ev.byCon[p], r)
				}
			}
		}
	}
}

// mentions reports whether an analysis has a word matching w (same word
// or a shared concept).
func (c *Checker) mentions(a *analysis, w cword) bool {
	for _, x := range a.words {
		if wordsMatch(x.w, w.w) {
			return true
		}
		for _, c1 := range x.concepts {
			for _, c2 := range w.concepts {
				if c1 == c2 && c.lex.concepts[c1].kind != kindOther {
					return true
				}
			}
		}
	}
	return false
}

func medKey(m medItem) string {
	if m.atc != "" {
		return m.atc
	}
	return m.key
}

// scope says which sources a sentence is compared with.
type scope struct {
	allow []bool // nil: all
}

func (s scope) ok(src int32) bool { return s.allow == nil || s.allow[src] }

// wordSupport returns the mentions in scope that support the content word
// w: the same word (inflected), a shared concept, or for a compound every
// concept it names.
func (c *Checker) wordSupport(ev *evidence, sc scope, w cword, buf []wref) []wref {
	buf = buf[:0]
	multi := strings.IndexByte(w.w, ' ') >= 0
	for _, r := range ev.byKey[prefixKey(w.w)] {
		if !multi && sc.ok(r.src) && wordsMatch(w.w, ev.an[r.src].words[r.word].w) {
			buf = append(buf, r)
		}
	}
	if len(w.concepts) > 0 {
		// every concept of the word must be met (rintakipu needs chest and pain)
		all := true
		start := len(buf)
		for _, cid := range w.concepts {
			found := false
			for _, r := range ev.byCon[cid] {
				if sc.ok(r.src) {
					buf = append(buf, r)
					found = true
				}
			}
			if !found {
				// a composite is met by its parts
				parts := c.lex.concepts[cid].parts
				if len(parts) > 0 && c.lex.concepts[cid].kind != kindOther {
					// "dysuria" is met where urination and pain are said together
					// (or in a question and its answer)
					var both []int32
					for _, r := range ev.byCon[parts[0]] {
						if !sc.ok(r.src) {
							continue
						}
						all := true
						for _, p := range parts[1:] {
							all = all && c.sourceMentions(ev, int(r.src), []uint16{p})
						}
						if all {
							both = append(both, r.src)
						}
					}
					for _, p := range parts {
						for _, r := range ev.byCon[p] {
							if slices.Contains(both, r.src) {
								buf = append(buf, r)
							}
						}
					}
					found = len(both) > 0
				} else if len(parts) > 0 {
					pf := true
					for _, p := range parts {
						ok := false
						for _, r := range ev.byCon[p] {
							if sc.ok(r.src) {
								buf = append(buf, r)
								ok = true
							}
						}
						pf = pf && ok
					}
					found = pf
				}
			}
			if !found && c.lex.concepts[cid].kind == kindOther {
				found = true // helper concepts never block a compound
			}
			all = all && found
		}
		if !all {
			buf = buf[:start]
		}
	}
	if len(buf) == 0 && len(w.w) >= 6 {
		// compounds the lexicon does not know: a source word inside the
		// draft word or the draft word inside a source compound
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for wi, e := range a.words {
				if len(e.w) >= 5 && len(w.w) >= len(e.w)+3 && strings.Contains(w.w, e.w[:len(e.w)-1]) && strings.HasPrefix(w.w, e.w[:3]) ||
					len(w.w) >= 6 && len(e.w) >= len(w.w)+3 && strings.Contains(e.w, w.w[:len(w.w)-1]) {
					buf = append(buf, wref{src: int32(si), word: int32(wi), pol: e.pol})
				}
			}
		}
	}
	return buf
}

func (c *Checker) checkSentence(ev *evidence, lang string, s Sentence) Result {
	res := Result{ID: s.ID, Flags: []Flag{}}
	sa := c.analyze(s.Text, lang, false)
	sc := scope{}
	if len(s.Cites) > 0 {
		sc.allow = make([]bool, len(ev.srcs))
		any := false
		for _, id := range s.Cites {
			i, ok := ev.byID[id]
			if !ok {
				res.Flags = append(res.Flags, Flag{Type: FlagCitation, Text: id, Evidence: "no source has this id"})
				continue
			}
			any = true
			sc.allow[i] = true
			// a cited answer brings its question, a cited question its answer
			if i > 0 && ev.an[i-1].qStart >= 0 {
				sc.allow[i-1] = true
			}
			if ev.an[i].qStart >= 0 && i+1 < len(ev.srcs) {
				sc.allow[i+1] = true
			}
		}
		if !any {
			sc.allow = nil
		}
		res.Cites = append([]string(nil), s.Cites...)
	}
	c.checkItems(ev, sc, sa, &res)
	if len(s.Cites) == 0 {
		res.Cites = c.proposeCites(ev, sa)
		res.Proposed = true
	}
	res.Supported = len(res.Flags) == 0
	return res
}

// ids lists the ids of the sources of refs, in source order, at most four.
func (ev *evidence) ids(srcs []int32) []string {
	sort.Slice(srcs, func(i, j int) bool { return srcs[i] < srcs[j] })
	var out []string
	last := int32(-1)
	for _, s := range srcs {
		if s != last {
			out = append(out, ev.srcs[s].ID)
			last = s
		}
		if len(out) == 4 {
			break
		}
	}
	return out
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func near(a, b float64) bool {
	d := math.Abs(a - b)
	return d <= 1e-6*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func (c *Checker) checkItems(ev *evidence, sc scope, sa *analysis, res *Result) {
	add := func(t FlagType, text, evd string, srcs []int32) {
		res.Flags = append(res.Flags, Flag{Type: t, Text: text, Evidence: evd, Sources: ev.ids(srcs)})
	}
	// numbers in scope: bare numbers and the numbers of quantities
	// medications
	for _, m := range sa.meds {
		var hit, other []int32
		var names []string
		for si, a := range ev.an {
			for _, em := range a.meds {
				if (m.atc != "" && em.atc == m.atc) || (m.atc == "" && em.atc == "" && (em.key == m.key || strings.HasPrefix(em.key, m.key) || strings.HasPrefix(m.key, em.key)) && min(len(em.key), len(m.key)) >= 5) {
					if sc.ok(int32(si)) {
						hit = append(hit, int32(si))
					} else {
						other = append(other, int32(si))
					}
				} else if sc.ok(int32(si)) {
					names = append(names, em.text)
				}
			}
			// an uncatalogued drug may still be written as a word the sources use
			if m.atc == "" && len(hit) == 0 && sc.ok(int32(si)) {
				for _, w := range a.words {
					if wordsMatch(fold(m.text), w.w) {
						hit = append(hit, int32(si))
					}
				}
			}
		}
		if len(hit) == 0 {
			evd := "not mentioned"
			if len(names) > 0 {
				evd = "sources name " + strings.Join(uniq(names), ", ")
			}
			if len(other) > 0 && sc.allow != nil {
				evd += "; named only in uncited sources"
			}
			add(FlagMedication, m.text, evd, other)
		}
	}
	// quantities (doses, durations, vitals with units)
	dimInScope := map[string]bool{}
	for si, a := range ev.an {
		if sc.ok(int32(si)) {
			for _, eq := range a.qtys {
				dimInScope[eq.dim] = true
			}
		}
	}
	anchors := c.anchorScope(ev, sa)
	dailyOK := true // a sentence giving its own frequency does not state a daily total
	for _, f := range sa.freqs {
		if !f.weak && f.rate != 1 {
			dailyOK = false
		}
	}
	for _, q := range sa.qtys {
		var same []string
		var srcs []int32
		found := false
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for _, eq := range a.qtys {
				if eq.dim == q.dim {
					if near(eq.val, q.val) {
						found = true
						break
					}
					same = append(same, eq.text)
					srcs = append(srcs, int32(si))
				}
			}
			if found {
				break
			}
			// the unit may go unsaid in talk ("take ten", "I'm 45")
			for _, en := range a.nums {
				if near(en.v, q.raw) && (!dimInScope[q.dim] || anchors.allow != nil && anchors.ok(int32(si))) {
					found = true
					break
				}
			}
			if found {
				break
			}
			// "two tablets of 500 mg" is 1 g (and twice daily 2 g a day)
			for _, dq := range a.derived {
				if dq.dim == q.dim && (dailyOK || !dq.daily) && near(dq.val, q.val) {
					found = true
				}
			}
			// "toissapäivänä" is two days ago, "last week" a week ago
			if q.dim == "time" {
				for _, ed := range a.dates {
					if r, ok := strings.CutPrefix(ed.key, "rel:-"); ok && len(r) >= 2 {
						n, _ := strconv.Atoi(r[:len(r)-1])
						h := 24.0
						if r[len(r)-1] == 'w' {
							h = 168
						}
						if near(float64(n)*h, q.val) {
							found = true
						}
					}
				}
			}
			if found {
				break
			}
			if found {
				break
			}
		}
		if !found {
			t := FlagNumber
			switch q.dim {
			case "mass", "volume", "units", "iu", "mmol":
				t = FlagDose
			}
			if strings.HasPrefix(q.dim, "u:") {
				t = FlagDose
			}
			evd := "not mentioned"
			if len(same) > 0 {
				evd = "sources say " + strings.Join(uniq(same), ", ")
			}
			add(t, q.text, evd, srcs)
		}
	}
	// bare numbers: when the sentence names a drug or a clinical term, its
	// numbers must come from the turns that speak of them (or the turn next
	// to one): "vomited twice" is not supported by "two doses" elsewhere.
	numScope := sc
	if sc.allow == nil {
		numScope = c.anchorScope(ev, sa)
	}
	for _, nm := range sa.nums {
		sc := numScope
		if nm.word {
			continue // "one of", "yksi", "once": too common to check
		}
		found := false
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for _, en := range a.nums {
				if near(en.v, nm.v) {
					found = true
				}
			}
			for _, eq := range a.qtys {
				if near(eq.raw, nm.v) {
					found = true
				}
			}
			for _, ef := range a.freqs {
				if near(ef.rate, nm.v) {
					found = true
				}
			}
			for _, ed := range a.dates {
				if ed.key == "y:"+fmtNum(nm.v) {
					found = true
				}
			}
			if found {
				break
			}
		}
		if !found {
			add(FlagNumber, nm.text, "not mentioned", nil)
		}
	}
	// frequencies
	for _, f := range sa.freqs {
		var others []string
		var srcs []int32
		found := false
		slots := false
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for _, ef := range a.freqs {
				if f.weak {
					// a time of day: only against the sources' times of day
					if ef.slot != 0 && (len(a.meds) > 0 || hasDose(a.qtys)) {
						slots = true
						if ef.slot == f.slot {
							found = true
						} else {
							others = append(others, ef.text)
							srcs = append(srcs, int32(si))
						}
					}
					continue
				}
				if near(ef.rate, f.rate) {
					found = true
				} else if !ef.weak {
					others = append(others, ef.text)
					srcs = append(srcs, int32(si))
				}
			}
		}
		dosing := len(sa.meds) > 0 || hasDose(sa.qtys) || c.substanceUse(sa)
		if f.weak && (!slots || !dosing) {
			continue
		}
		// "as needed", "daily" outside a dose ("follow up as needed", "on a
		// daily basis") say nothing checkable
		if (f.rate < 0 || f.word) && !dosing {
			continue
		}
		if !found {
			evd := "not mentioned"
			if len(others) > 0 {
				evd = "sources say " + strings.Join(uniq(others), ", ")
			}
			add(FlagFrequency, f.text, evd, srcs)
		}
	}
	// dates
	for _, dt := range sa.dates {
		if dt.key == "rel:0d" {
			continue
		}
		found := false
		var others []string
		var srcs []int32
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for _, ed := range a.dates {
				if ed.key == dt.key || strings.HasPrefix(dt.key, "m:") && strings.HasPrefix(ed.key, "md:"+dt.key[2:]+"-") {
					found = true
				} else if ed.text != "" {
					others = append(others, ed.text)
					srcs = append(srcs, int32(si))
				}
			}
		}
		if !found && strings.HasPrefix(dt.key, "y:") {
			// a year is also a plain number
			y, _ := strconv.Atoi(dt.key[2:])
			for si, a := range ev.an {
				for _, en := range a.nums {
					if sc.ok(int32(si)) && en.v == float64(y) {
						found = true
					}
				}
			}
		}
		if !found {
			evd := "not mentioned"
			if len(others) > 0 {
				evd = "sources say " + strings.Join(uniq(others), ", ")
			}
			text := dt.text
			if text == "" {
				text = dt.key[2:]
			}
			add(FlagDate, text, evd, srcs)
		}
	}
	// laterality
	for _, sd := range sa.sides {
		found, bodySeen := false, false
		var others []string
		var srcs []int32
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for _, es := range a.sides {
				if sd.body != noBody && es.body == sd.body {
					bodySeen = true
				}
			}
		}
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for _, es := range a.sides {
				if bodySeen && es.body != sd.body {
					continue
				}
				if es.side == sd.side {
					found = true
				} else {
					others = append(others, es.text)
					srcs = append(srcs, int32(si))
				}
			}
		}
		if !found && sd.side == 'B' {
			// both: the sources may name each side
			l, r := false, false
			for si, a := range ev.an {
				for _, es := range a.sides {
					if sc.ok(int32(si)) && (!bodySeen || es.body == sd.body) {
						l = l || es.side == 'L'
						r = r || es.side == 'R'
					}
				}
			}
			found = l && r
		}
		sf := c.sideFindings(sa, sd, true)
		if found && len(sf) > 0 && sd.side != 'B' {
			// the finding belongs to the other side: "right knee swollen"
			// when the left knee is the swollen one and the right is fine
			same, other := false, false
			var otherSrcs []int32
			for si, a := range ev.an {
				if !sc.ok(int32(si)) {
					continue
				}
				for _, es := range a.sides {
					if bodySeen && es.body != sd.body || !shareAny(c.sideFindings(a, es, false), sf) {
						continue
					}
					if es.side == sd.side || es.side == 'B' {
						same = true
					} else {
						other = true
						otherSrcs = append(otherSrcs, int32(si))
						others = append(others, es.text)
					}
				}
			}
			if other && !same {
				add(FlagLaterality, sd.text, "sources give the finding on the other side: "+strings.Join(uniq(others), ", "), otherSrcs)
			}
		}
		if !found {
			evd := "no side mentioned"
			if len(others) > 0 {
				evd = "sources say " + strings.Join(uniq(others), ", ")
			}
			add(FlagLaterality, sd.text, evd, srcs)
		}
	}
	// changes: "start X" where the sources stop it, "better" where they say worse
	for _, l := range sa.links {
		same, opp := false, false
		var srcs []int32
		var texts []string
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for _, el := range a.links {
				if el.subj != l.subj {
					continue
				}
				switch {
				case el.dir == l.dir || l.dir == "continue" && el.dir != "stop" || el.dir == "continue" && l.dir == "start":
					same = true
				case el.dir == opposite[l.dir] || l.dir == "stop" && el.dir == "continue":
					opp = true
					srcs = append(srcs, int32(si))
					texts = append(texts, el.text)
				}
			}
		}
		if opp && !same {
			t := FlagNegation
			if strings.HasPrefix(l.subj, "m:") {
				t = FlagMedication
			}
			add(t, l.text, "sources say the opposite: "+strings.Join(uniq(texts), ", "), srcs)
		}
	}
	c.checkAllergies(ev, sc, sa, add)
	c.checkWords(ev, sc, sa, add)
}

// substanceUse reports a sentence about smoking or drinking, whose
// frequencies are checked like doses.
func (c *Checker) substanceUse(sa *analysis) bool {
	for _, w := range sa.words {
		for _, cid := range w.concepts {
			if id := c.lex.concepts[cid].id; id == "smoking" || id == "alcohol" || id == "alcohol~" {
				return true
			}
		}
	}
	return false
}

// sideFindings returns the concepts of the findings said with a side that
// are asserted (in a draft) or not denied (in a source).
func (c *Checker) sideFindings(a *analysis, s sideItem, draft bool) []uint16 {
	var out []uint16
	for _, wi := range s.fwords {
		w := a.words[wi]
		if w.pol == polNeg || draft && w.pol != polPos {
			continue
		}
		for _, cid := range w.concepts {
			if c.lex.concepts[cid].kind == kindFinding {
				out = appendUnique(out, cid)
			}
		}
	}
	return out
}

// derivedQuantities computes the amounts a source states without writing
// them: a count of dosage units times their strength said with it ("two
// tablets of 500 mg" = 1 g) and daily totals (strength × administrations
// a day said with it: 500 mg twice daily = 1 g a day), marked daily.
func derivedQuantities(a *analysis) []quantity {
	var out []quantity
	for _, m := range a.qtys {
		if m.dim != "mass" && m.dim != "iu" && m.dim != "volume" {
			continue
		}
		var counts []float64
		for _, u := range a.qtys {
			if u.dim == "units" && u.tok >= m.tok-8 && u.tok <= m.tok+8 {
				counts = append(counts, u.raw)
				out = append(out, quantity{dim: m.dim, val: u.raw * m.val, tok: m.tok})
			}
		}
		for _, f := range a.freqs {
			if f.rate <= 0 || f.tok < m.tok-12 || f.tok > m.tok+12 {
				continue
			}
			out = append(out, quantity{dim: m.dim, val: m.val * f.rate, tok: m.tok, daily: true})
			for _, n := range counts {
				out = append(out, quantity{dim: m.dim, val: n * m.val * f.rate, tok: m.tok, daily: true})
			}
		}
		if len(out) > 4*len(a.qtys)+16 {
			break // enough for any real text
		}
	}
	return out
}

func shareAny(a, b []uint16) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func hasDose(qs []quantity) bool {
	for _, q := range qs {
		if q.dim == "mass" || q.dim == "units" || q.dim == "volume" || q.dim == "iu" {
			return true
		}
	}
	return false
}

// anchorScope returns the sources that support the sentence's drugs and
// clinical terms, widened by one turn in a conversation; all sources when
// the sentence has no such anchor.
func (c *Checker) anchorScope(ev *evidence, sa *analysis) scope {
	allow := make([]bool, len(ev.srcs))
	any := false
	mark := func(s int32) {
		allow[s] = true
		any = true
	}
	var buf []wref
	for _, w := range sa.words {
		if w.kind != kindFinding && w.kind != kindBody && w.kind != kindVital && w.kind != kindTest {
			continue
		}
		buf = c.wordSupport(ev, scope{}, w, buf)
		for _, r := range buf {
			mark(r.src)
		}
	}
	for _, m := range sa.meds {
		for si, a := range ev.an {
			for _, em := range a.meds {
				if medKey(em) == medKey(m) {
					mark(int32(si))
				}
			}
		}
	}
	if !any {
		return scope{}
	}
	out := make([]bool, len(allow))
	for i, ok := range allow {
		if !ok {
			continue
		}
		out[i] = true
		if ev.srcs[i].Speaker != "" {
			if i > 0 {
				out[i-1] = true
			}
			if i+1 < len(out) {
				out[i+1] = true
			}
		}
	}
	return scope{allow: out}
}

func sameDim(qs []quantity, dim string) []quantity {
	var out []quantity
	for _, q := range qs {
		if q.dim == dim {
			out = append(out, q)
		}
	}
	return out
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
		if len(out) == 3 {
			break
		}
	}
	return out
}

func (c *Checker) checkAllergies(ev *evidence, sc scope, sa *analysis, add func(FlagType, string, string, []int32)) {
	for _, al := range sa.allergies {
		if al.implied {
			continue // "X gives me a rash" in a draft is checked as its words
		}
		var pos, neg []int32
		var evAll []allergyItem
		for si, a := range ev.an {
			if !sc.ok(int32(si)) {
				continue
			}
			for _, ea := range a.allergies {
				switch ea.pol {
				case polPos:
					pos = append(pos, int32(si))
					evAll = append(evAll, ea)
				case polNeg:
					neg = append(neg, int32(si))
				}
			}
		}
		if al.pol == polNeg {
			if len(pos) > 0 {
				add(FlagAllergy, al.text, "sources state an allergy", pos)
			} else if len(neg) == 0 {
				add(FlagAllergy, al.text, "allergies not discussed", nil)
			}
			continue
		}
		if len(pos) == 0 {
			evd := "no allergy mentioned"
			if len(neg) > 0 {
				evd = "sources deny allergies"
			}
			add(FlagAllergy, al.text, evd, neg)
			continue
		}
		// each named allergen must be among the sources' allergens
		for _, m := range al.meds {
			ok := false
			for _, ea := range evAll {
				for _, em := range ea.meds {
					ok = ok || em == m || strings.HasPrefix(em, m) && len(m) >= 5
				}
			}
			if !ok {
				add(FlagAllergy, al.text, "sources name another allergen", pos)
			}
		}
		for _, w := range al.words {
			ok := false
			for _, ea := range evAll {
				for _, ew := range ea.words {
					ok = ok || wordsMatch(w, ew)
				}
			}
			if !ok && len(c.lex.wordConcepts(w, true, nil)) > 0 && !allergenLike(w) {
				ok = true // "severe", "reaction", body sites: checked as words
			}
			if !ok && len(c.lex.wordConcepts(w, true, nil)) == 0 {
				// an unknown allergen word must appear as an allergen
				for _, ea := range evAll {
					if len(ea.words) == 0 && len(ea.meds) == 0 {
						ok = true
					}
				}
				if !ok && !allergenLike(w) {
					ok = true
				}
			}
			if !ok {
				add(FlagAllergy, w, "sources name another allergen", pos)
			}
		}
	}
}

// allergenLike: words that name allergens (not reactions nor manner).
func allergenLike(w string) bool {
	for _, p := range []string{"penicil", "penisil", "pahkin", "peanut", "nut", "jordnot", "not", "egg", "kanamun", "mjolk", "milk", "maito",
		"latex", "lateksi", "sulf", "sulpha", "sulfa", "kontrast", "contrast", "varjoaine", "pollen", "siitep", "katt", "cat", "kissa", "dog", "koira", "hund",
		"shellfish", "ayriai", "skaldjur", "fisk", "fish", "kala", "wheat", "vehna", "vete", "gluten", "soy", "soija", "soja", "bee", "ampiai", "geting", "wasp", "mehilai",
		"kodei", "codei", "morfi", "morphi", "jodi", "iodin", "jod", "antibiot", "asa", "aspir", "nsaid", "tulehduskipu", "ibupro", "amoxi", "amoksi", "kefa", "cefa", "cepha", "sulfo", "trimet"} {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// checkWords checks content words: clinical concepts must be mentioned,
// with the same polarity; other words count towards the share of the
// sentence the sources support.
func (c *Checker) checkWords(ev *evidence, sc scope, sa *analysis, add func(FlagType, string, string, []int32)) {
	var buf []wref
	unsupported, content := 0, 0
	var negText, findText []string
	var negSrcs []int32
	for wi, w := range sa.words {
		buf = c.wordSupport(ev, sc, w, buf)
		clinical := w.kind == kindFinding || w.kind == kindBody || w.kind == kindTest || w.kind == kindVital
		if w.kind != kindOther {
			content++
		}
		if len(buf) == 0 {
			if clinical {
				findText = append(findText, w.text)
			} else if w.kind == 0 && len(w.w) >= 4 {
				unsupported++
			}
			continue
		}
		if w.kind != kindFinding && !c.weakFinding(w) {
			continue
		}
		// polarity: a finding denied in every mention but asserted here, or the reverse
		if w.pol == polUnknown {
			continue // "former smoker": neither asserted nor denied now
		}
		// "knee discomfort": only the mentions where the knee is spoken of
		if body := sentenceBody(c, sa, wi); len(body) > 0 {
			var near []wref
			for _, r := range buf {
				if c.sourceMentions(ev, int(r.src), body) {
					near = append(near, r)
				}
			}
			if len(near) > 0 {
				buf = near
			}
		}
		same, opposite, unknown := false, false, false
		var opp []int32
		for _, r := range buf {
			switch {
			case r.pol == polUnknown:
				unknown = true
			case r.pol == w.pol:
				same = true
			default:
				opposite = true
				opp = append(opp, r.src)
			}
		}
		_ = unknown // a question without a clear answer neither supports nor contradicts
		if opposite && !same {
			negSrcs = append(negSrcs, opp...)
			text := w.text
			// "chest pain": the body site before the finding
			if wi > 0 && sa.words[wi-1].tok == w.tok-1 && sa.words[wi-1].kind == kindBody {
				text = sa.words[wi-1].text + " " + text
			}
			negText = append(negText, text)
		}
	}
	if len(negText) > 0 {
		evd := "sources deny it"
		for _, w := range sa.words {
			if strings.HasSuffix(negText[0], w.text) && w.pol == polNeg {
				evd = "sources state it"
			}
		}
		add(FlagNegation, strings.Join(negText, ", "), evd, negSrcs)
	}
	if len(findText) > 0 {
		add(FlagFinding, strings.Join(findText, ", "), "not mentioned", nil)
	}

	_ = unsupported // unknown words alone are not flagged: paraphrase is free
}

// weakFinding reports a word read through a weak form of a finding
// ("falls", "broken"): not flagged when unmentioned, but its polarity counts.
func (c *Checker) weakFinding(w cword) bool {
	for _, cid := range w.concepts {
		for _, p := range c.lex.concepts[cid].parts {
			if c.lex.concepts[cid].kind == kindOther && c.lex.concepts[p].kind == kindFinding && strings.HasSuffix(c.lex.concepts[cid].id, "~") {
				return true
			}
		}
	}
	return false
}

// sentenceBody returns the body-site concepts within two words of the
// sentence's word wi ("right knee discomfort", "kipua polvessa").
func sentenceBody(c *Checker, sa *analysis, wi int) []uint16 {
	var out []uint16
	tok := sa.words[wi].tok
	for k, x := range sa.words {
		if k == wi || x.tok < tok-2 || x.tok > tok+2 {
			continue
		}
		for _, cid := range x.concepts {
			if c.lex.concepts[cid].kind == kindBody {
				out = append(out, cid)
			}
		}
	}
	return out
}

// sourceMentions reports whether source si (or the turn it answers or
// that answers it) names any of the concepts.
func (c *Checker) sourceMentions(ev *evidence, si int, cs []uint16) bool {
	has := func(i int) bool {
		for _, w := range ev.an[i].words {
			for _, x := range w.concepts {
				for _, y := range cs {
					if x == y {
						return true
					}
					for _, p := range c.lex.concepts[x].parts {
						if p == y {
							return true
						}
					}
				}
			}
		}
		return false
	}
	if has(si) {
		return true
	}
	if si > 0 && ev.an[si-1].qStart >= 0 && has(si-1) {
		return true
	}
	return ev.an[si].qStart >= 0 && si+1 < len(ev.an) && has(si+1)
}

// proposeCites picks the sources that best support a sentence that cites
// none: greedily, the source covering the most still-uncovered items
// (findings and medications weigh more), at most three.
func (c *Checker) proposeCites(ev *evidence, sa *analysis) []string {
	type item struct {
		w    float64
		srcs []int32 // distinct
	}
	nsrc := len(ev.srcs)
	stamp := make([]int32, nsrc)
	gen := int32(0)
	var items []item
	newItem := func(w float64, add func(func(int32))) {
		gen++
		it := item{w: w}
		add(func(s int32) {
			if stamp[s] != gen {
				stamp[s] = gen
				it.srcs = append(it.srcs, s)
			}
		})
		if len(it.srcs) > 0 {
			items = append(items, it)
		}
	}
	var buf []wref
	for _, w := range sa.words {
		buf = c.wordSupport(ev, scope{}, w, buf)
		wt := 1.0
		switch w.kind {
		case kindFinding, kindBody:
			wt = 2
		case kindOther:
			wt = 0.5
		}
		newItem(wt, func(put func(int32)) {
			for _, r := range buf {
				put(r.src)
			}
		})
	}
	addVals := func(match func(a *analysis) bool) {
		newItem(3, func(put func(int32)) {
			for si, a := range ev.an {
				if match(a) {
					put(int32(si))
				}
			}
		})
	}
	for _, m := range sa.meds {
		addVals(func(a *analysis) bool {
			for _, em := range a.meds {
				if medKey(em) == medKey(m) {
					return true
				}
			}
			return false
		})
	}
	for _, q := range sa.qtys {
		addVals(func(a *analysis) bool {
			for _, eq := range a.qtys {
				if eq.dim == q.dim && near(eq.val, q.val) {
					return true
				}
			}
			for _, en := range a.nums {
				if near(en.v, q.raw) {
					return true
				}
			}
			return false
		})
	}
	for _, nm := range sa.nums {
		addVals(func(a *analysis) bool {
			for _, en := range a.nums {
				if near(en.v, nm.v) {
					return true
				}
			}
			return false
		})
	}
	for _, f := range sa.freqs {
		addVals(func(a *analysis) bool {
			for _, ef := range a.freqs {
				if near(ef.rate, f.rate) {
					return true
				}
			}
			return false
		})
	}
	for _, dt := range sa.dates {
		addVals(func(a *analysis) bool {
			for _, ed := range a.dates {
				if ed.key == dt.key {
					return true
				}
			}
			return false
		})
	}
	if len(items) > 64 {
		items = items[:64] // a sentence's first 64 checkable items are plenty to choose its cites
	}
	var chosen []int32
	covered := make([]bool, len(items))
	score := make([]float64, nsrc)
	for len(chosen) < 3 {
		clear(score)
		for k, it := range items {
			if covered[k] {
				continue
			}
			for _, s := range it.srcs {
				score[s] += it.w
			}
		}
		best, bestScore := int32(-1), 0.0
		for s, v := range score {
			if v > bestScore+1e-9 {
				best, bestScore = int32(s), v
			}
		}
		if best < 0 || bestScore < 1 {
			break
		}
		chosen = append(chosen, best)
		for k, it := range items {
			for _, s := range it.srcs {
				if s == best {
					covered[k] = true
					break
				}
			}
		}
	}
	// a proposed question brings its answer ("Onko rintakipua?" "Ei ole.")
	for _, s := range chosen {
		if ev.an[s].qStart >= 0 && int(s)+1 < nsrc && !slices.Contains(chosen, s+1) &&
			(ev.srcs[s+1].Speaker == "" || ev.srcs[s+1].Speaker != ev.srcs[s].Speaker) && ev.an[s+1].hasAns {
			chosen = append(chosen, s+1)
		}
	}
	sort.Slice(chosen, func(i, j int) bool { return chosen[i] < chosen[j] })
	out := make([]string, 0, len(chosen))
	for _, s := range chosen {
		out = append(out, ev.srcs[s].ID)
	}
	return out
}
