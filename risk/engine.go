package risk

import (
	"fmt"
	"slices"
	"strings"
)

// classSet is a bit set of class indexes.
type classSet [2]uint64

func (s *classSet) set(i int)                 { s[i/64] |= 1 << (uint(i) % 64) }
func (s classSet) has(i int) bool             { return s[i/64]&(1<<(uint(i)%64)) != 0 }
func (s classSet) intersects(o classSet) bool { return s[0]&o[0] != 0 || s[1]&o[1] != 0 }

// compiledSelector is a Selector with classes resolved to a bit set.
type compiledSelector struct {
	classes  classSet
	fridMask classSet
	atc      []string
	except   []string
	acbMin   int
	frid     bool
	newOnly  bool
}

func (s *compiledSelector) match(d *drugState) bool {
	if s.newOnly && !d.isNew {
		return false
	}
	if len(s.except) > 0 && matchesPrefix(d.atc, s.except) {
		return false
	}
	switch {
	case s.classes.intersects(d.mask):
		return true
	case len(s.atc) > 0 && matchesPrefix(d.atc, s.atc):
		return true
	case s.acbMin > 0 && d.acb >= s.acbMin:
		return true
	case s.frid && s.fridMask.intersects(d.mask):
		return true
	}
	return false
}

// compiledRule is a Rule with its selectors and codes precompiled.
type compiledRule struct {
	Rule
	slots    []compiledSelector
	unless   []compiledSelector
	count    *compiledSelector
	condAny  []string
	condNone []string
}

func (cr *compiledRule) needsKidney() bool { return cr.When.needsKidney() }

func (w *When) needsKidney() bool {
	return w.KidneyBelow != nil || w.KidneyAtLeast != nil || w.KidneyAtMost != nil
}

// describe names a condition of an at_least list for the flag's basis.
func (w *When) describe() string {
	var parts []string
	if w.AgeMin != nil {
		parts = append(parts, fmt.Sprintf("age ≥ %d", *w.AgeMin))
	}
	if w.WeightAtMost != nil {
		parts = append(parts, fmt.Sprintf("weight ≤ %s kg", fmtNum(*w.WeightAtMost)))
	}
	if w.CreatinineAtLeast != nil {
		parts = append(parts, fmt.Sprintf("creatinine ≥ %s µmol/l", fmtNum(*w.CreatinineAtLeast)))
	}
	if w.KidneyBelow != nil {
		parts = append(parts, fmt.Sprintf("kidney function < %s", fmtNum(*w.KidneyBelow)))
	}
	return strings.Join(parts, ", ")
}

// drugState is a resolved input drug as the rules see it.
type drugState struct {
	idx   int // index into Input.Drugs
	atc   string
	mask  classSet
	acb   int
	frid  bool
	isNew bool
	// dose is how the dosing was read (nil when none was given);
	// asNeeded marks as-needed use.
	dose     *DoseReading
	asNeeded bool
}

// useCheck evaluates a rule's Use conditions for one medicine.
func useCheck(u *Use, d *drugState, b *Basis) (tri, NoteReason) {
	if u.Regular && d.asNeeded || u.AsNeeded && !d.asNeeded {
		return triNo, ""
	}
	if u.AsNeeded {
		b.AsNeeded = true
	}
	if u.MinDays != nil {
		switch {
		case d.dose == nil || d.dose.DurationDays == nil:
			return triUnknown, NoteMissingDuration
		case *d.dose.DurationDays < *u.MinDays:
			return triNo, ""
		}
		days := *d.dose.DurationDays
		b.DurationDays = &days
	}
	if u.DailyAbove != nil {
		unit := u.Unit
		if unit == "" {
			unit = "mg"
		}
		switch {
		case d.dose == nil || d.dose.Daily == nil || d.dose.Daily.Unit != unit:
			return triUnknown, NoteMissingDose
		case !(d.dose.Daily.High > *u.DailyAbove):
			return triNo, ""
		}
		b.Dose = &DoseBasis{Daily: *d.dose.Daily, Above: *u.DailyAbove, Read: d.dose.Read}
	}
	return triYes, ""
}

// tri is a three-valued truth: a condition holds, fails, or cannot be
// decided for lack of data.
type tri int8

const (
	triNo tri = iota
	triUnknown
	triYes
)

// evaluator carries one assessment.
type evaluator struct {
	kb       *KB
	res      *Result
	drugs    []drugState
	age      *int
	kidney   Kidney
	weight   *float64
	conds    []string
	falls    *bool
	notes    map[NoteReason]*noteAcc
	flagRule []*compiledRule // parallel to res.Flags
}

type noteAcc struct {
	drugs map[int]bool
	rules map[string]bool
}

func (e *evaluator) note(reason NoteReason, drugs []int, rule string) {
	if e.notes == nil {
		e.notes = map[NoteReason]*noteAcc{}
	}
	n := e.notes[reason]
	if n == nil {
		n = &noteAcc{drugs: map[int]bool{}, rules: map[string]bool{}}
		e.notes[reason] = n
	}
	for _, d := range drugs {
		n.drugs[d] = true
	}
	if rule != "" {
		n.rules[rule] = true
	}
}

// Assess runs every rule of kb against the input. It returns an error (of
// kind invalid) only for malformed input; missing facts and unrecognised
// medicines become notes in the Result. It is deterministic, does no I/O
// and is safe for concurrent use.
func Assess(kb *KB, in Input) (Result, error) {
	if err := in.Validate(); err != nil {
		return Result{}, err
	}
	res := Result{
		KBVersion: kb.version,
		Drugs:     make([]ResolvedDrug, len(in.Drugs)),
		Kidney:    kidneyOf(in.Patient),
		Flags:     make([]Flag, 0, 32),
		Notes:     []Note{},
	}
	e := &evaluator{kb: kb, res: &res, age: in.Patient.Age, kidney: res.Kidney, falls: in.Patient.Falls, weight: in.Patient.WeightKg,
		flagRule: make([]*compiledRule, 0, 32)}
	for _, c := range in.Patient.Conditions {
		e.conds = append(e.conds, NormalizeICD10(c)...)
	}
	e.drugs = make([]drugState, 0, len(in.Drugs))
	for i, d := range in.Drugs {
		rd := kb.resolve(e, i, d)
		rd.Dose = resolveDose(&in.Drugs[i], in.Date)
		if rd.Dose != nil && rd.Dose.Daily == nil && (rd.Dose.From == "text" || in.Drugs[i].Dose != nil) {
			e.note(NoteDoseNotUnderstood, []int{i}, "")
		}
		res.Drugs[i] = rd
		if rd.ATC == "" {
			continue
		}
		ds := drugState{idx: i, atc: rd.ATC, mask: kb.maskFor(rd.ATC), acb: rd.ACB, isNew: d.New,
			dose: rd.Dose, asNeeded: rd.Dose != nil && rd.Dose.AsNeeded != nil && *rd.Dose.AsNeeded}
		for ci, c := range kb.classes {
			if c.FRID && ds.mask.has(ci) {
				ds.frid = true
				break
			}
		}
		e.drugs = append(e.drugs, ds)
	}
	res.ACBTotal, res.FRIDCount = e.totals()

	for _, cr := range kb.rules {
		e.evalRule(cr)
	}
	e.supersede()
	e.sortFlags()
	e.buildNotes()
	return res, nil
}

// resolve maps one input drug to an ATC code and catalogue entry.
func (kb *KB) resolve(e *evaluator, i int, d DrugInput) ResolvedDrug {
	rd := ResolvedDrug{Index: i, Input: strings.TrimSpace(d.Name), Ref: d.Ref, New: d.New, Method: MatchNone}
	atc := NormalizeATC(d.ATC)
	var hit nameHit
	var matched string
	if d.Name != "" {
		for _, c := range nameCandidates(d.Name) {
			if h, ok := kb.names[c]; ok {
				hit, matched = h, c
				break
			}
		}
	}
	switch {
	case atc != "":
		rd.ATC, rd.Method = atc, MatchATC
		if rd.Input == "" {
			rd.Input = atc
		}
		if hit.atc != "" && hit.atc != atc {
			e.note(NoteNameATCMismatch, []int{i}, "")
		}
	case hit.atc != "":
		rd.ATC, rd.Method, rd.Matched = hit.atc, hit.method, matched
	default:
		e.note(NoteUnrecognisedDrug, []int{i}, "")
		return rd
	}
	if j, ok := kb.byATC[rd.ATC]; ok {
		cd := &kb.drugs[j]
		rd.Known = true
		rd.NameEN, rd.NameFI, rd.ACB = cd.NameEN, cd.NameFI, cd.ACB
		rd.Classes, rd.FRIDClasses = cd.Classes, cd.FRIDClasses
		return rd
	}
	e.note(NoteNotInCatalogue, []int{i}, "")
	set := kb.classSetFor(rd.ATC)
	for ci, c := range kb.classes {
		if set.has(ci) {
			rd.Classes = append(rd.Classes, c.ID)
			if c.FRID {
				rd.FRIDClasses = append(rd.FRIDClasses, c.ID)
			}
		}
	}
	return rd
}

// totals returns the ACB score and FRID count over distinct substances.
func (e *evaluator) totals() (acb, frid int) {
	seen := make(map[string]bool, len(e.drugs))
	for i := range e.drugs {
		d := &e.drugs[i]
		if seen[d.atc] {
			continue
		}
		seen[d.atc] = true
		acb += d.acb
		if d.frid {
			frid++
		}
	}
	return acb, frid
}

func (e *evaluator) evalRule(cr *compiledRule) {
	switch {
	case len(cr.slots) > 0:
		var b Basis
		involved, ok, unknown, reasons := e.matchSlots(cr, &b)
		switch {
		case e.unlessMatches(cr):
		case ok:
			e.conclude(cr, involved, b)
		case len(unknown) > 0:
			e.undecided(cr, unknown, reasons)
		}
	case cr.count != nil:
		var involved []int
		seen := map[string]bool{}
		for i := range e.drugs {
			d := &e.drugs[i]
			if cr.count.match(d) && (cr.Use == nil || !cr.Use.Regular || !d.asNeeded) {
				involved = append(involved, d.idx)
				seen[d.atc] = true
			}
		}
		if len(seen) >= cr.Count.Min && !e.unlessMatches(cr) {
			e.conclude(cr, involved, Basis{Count: len(seen)})
		}
	case cr.ACBTotalMin > 0:
		if e.res.ACBTotal >= cr.ACBTotalMin && !e.unlessMatches(cr) {
			var involved []int
			for i := range e.drugs {
				if e.drugs[i].acb > 0 {
					involved = append(involved, e.drugs[i].idx)
				}
			}
			e.conclude(cr, involved, Basis{ACBTotal: e.res.ACBTotal})
		}
	case cr.Duplicate == "atc4":
		e.duplicates(cr, atcLevel4)
	case cr.Duplicate == "substance":
		e.duplicates(cr, func(atc string) string { return atc })
	}
}

// matchSlots finds the drugs for each slot; unless AllowSameDrug, the
// slots must be filled by different substances. The rule's Use conditions
// filter the first slot: when they cannot be decided for every candidate
// (dose or duration unknown), the candidates are returned as unknown with
// the missing facts.
func (e *evaluator) matchSlots(cr *compiledRule, b *Basis) (involved []int, ok bool, unknown []int, reasons []NoteReason) {
	var buf [4][]int
	lists := buf[:len(cr.slots)]
	for s := range cr.slots {
		for i := range e.drugs {
			d := &e.drugs[i]
			if !cr.slots[s].match(d) {
				continue
			}
			if s == 0 && cr.Use != nil {
				var db Basis
				t, reason := useCheck(cr.Use, d, &db)
				switch t {
				case triNo:
					continue
				case triUnknown:
					unknown = append(unknown, d.idx)
					if !slices.Contains(reasons, reason) {
						reasons = append(reasons, reason)
					}
					continue
				}
				if len(lists[0]) == 0 {
					b.Dose, b.DurationDays, b.AsNeeded = db.Dose, db.DurationDays, db.AsNeeded
				}
			}
			lists[s] = append(lists[s], i)
		}
		if len(lists[s]) == 0 {
			if s == 0 && len(unknown) > 0 {
				// Undecided unless a later slot is empty anyway.
				for k := 1; k < len(cr.slots); k++ {
					found := false
					for i := range e.drugs {
						if cr.slots[k].match(&e.drugs[i]) {
							found = true
							unknown = append(unknown, e.drugs[i].idx)
						}
					}
					if !found {
						return nil, false, nil, nil
					}
				}
				slices.Sort(unknown)
				return nil, false, slices.Compact(unknown), reasons
			}
			return nil, false, nil, nil
		}
	}
	if len(lists) > 1 && !cr.AllowSameDrug && !e.assign(lists, 0, nil) {
		return nil, false, nil, nil
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	involved = make([]int, 0, n)
	for _, l := range lists {
		for _, i := range l {
			involved = append(involved, e.drugs[i].idx)
		}
	}
	slices.Sort(involved)
	return slices.Compact(involved), true, nil, nil
}

// undecided records a rule whose drugs matched but whose use conditions
// (dose, duration) could not be decided: a note, unless the patient
// conditions rule it out anyway.
func (e *evaluator) undecided(cr *compiledRule, involved []int, reasons []NoteReason) {
	var b Basis
	t, missing := e.when(cr, &b)
	if t == triNo {
		return
	}
	for _, r := range append(reasons, missing...) {
		e.note(r, involved, cr.ID)
	}
}

// assign reports whether slots k.. can be filled with substances not in used.
func (e *evaluator) assign(lists [][]int, k int, used []string) bool {
	if k == len(lists) {
		return true
	}
	for _, i := range lists[k] {
		atc := e.drugs[i].atc
		if slices.Contains(used, atc) {
			continue
		}
		if e.assign(lists, k+1, append(used, atc)) {
			return true
		}
	}
	return false
}

func (e *evaluator) unlessMatches(cr *compiledRule) bool {
	for s := range cr.unless {
		for i := range e.drugs {
			if cr.unless[s].match(&e.drugs[i]) {
				return true
			}
		}
	}
	return false
}

// duplicates fires one flag per group (by key) holding two or more
// substances (atc4) or entries of one substance (substance).
func (e *evaluator) duplicates(cr *compiledRule, key func(string) string) {
	type group struct {
		key     string
		entries []int
		atcs    []string
	}
	var groups []*group
	byKey := map[string]*group{}
	for i := range e.drugs {
		d := &e.drugs[i]
		k := key(d.atc)
		if k == "" || cr.Use != nil && cr.Use.Regular && d.asNeeded {
			continue
		}
		g := byKey[k]
		if g == nil {
			g = &group{key: k}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.entries = append(g.entries, d.idx)
		if !slices.Contains(g.atcs, d.atc) {
			g.atcs = append(g.atcs, d.atc)
		}
	}
	for _, g := range groups {
		n := len(g.atcs)
		if cr.Duplicate == "substance" {
			n = len(g.entries)
		}
		if n < 2 || slices.Contains(cr.ExceptGroups, g.key) {
			continue
		}
		e.conclude(cr, g.entries, Basis{Group: g.key})
	}
}

// conclude evaluates the rule's patient conditions for drugs that matched
// and records a flag, a note, or nothing.
func (e *evaluator) conclude(cr *compiledRule, involved []int, b Basis) {
	t, reasons := e.when(cr, &b)
	switch t {
	case triYes:
		e.addFlag(cr, involved, b)
	case triUnknown:
		for _, r := range reasons {
			e.note(r, involved, cr.ID)
		}
	}
}

// when evaluates the rule's When block: no if any condition fails,
// unknown (with the missing facts) if any cannot be decided, else yes.
func (e *evaluator) when(cr *compiledRule, b *Basis) (tri, []NoteReason) {
	t, missing := e.whenOf(&cr.When, cr.condAny, cr.condNone, b)
	if t == triNo || cr.When.AtLeast == nil {
		return t, missing
	}
	// At least N of the listed conditions: decided when N hold, ruled out
	// when too few can still hold, else unknown with what is missing.
	al := cr.When.AtLeast
	yes, unknown := 0, 0
	var met []string
	var sub Basis
	var subMissing []NoteReason
	for i := range al.Of {
		st, sm := e.whenOf(&al.Of[i], nil, nil, &sub)
		switch st {
		case triYes:
			yes++
			met = append(met, al.Of[i].describe())
		case triUnknown:
			unknown++
			for _, r := range sm {
				if !slices.Contains(subMissing, r) {
					subMissing = append(subMissing, r)
				}
			}
		}
	}
	switch {
	case yes >= al.N:
		b.Met = met
		if b.Age == nil {
			b.Age = sub.Age
		}
		b.WeightKg, b.CreatinineUmolL = sub.WeightKg, sub.CreatinineUmolL
		return t, missing
	case yes+unknown < al.N:
		return triNo, nil
	}
	return triUnknown, append(missing, subMissing...)
}

// whenOf evaluates one set of patient conditions.
func (e *evaluator) whenOf(w *When, condAny, condNone []string, b *Basis) (tri, []NoteReason) {
	var missing []NoteReason
	if w.WeightAtMost != nil {
		switch {
		case e.weight == nil:
			missing = append(missing, NoteMissingWeight)
		case *e.weight > *w.WeightAtMost:
			return triNo, nil
		default:
			b.WeightKg = e.weight
		}
	}
	if w.CreatinineAtLeast != nil {
		switch {
		case e.kidney.CreatinineUmolL == nil:
			missing = append(missing, NoteMissingCreatinine)
		case *e.kidney.CreatinineUmolL < *w.CreatinineAtLeast:
			return triNo, nil
		default:
			b.CreatinineUmolL = e.kidney.CreatinineUmolL
		}
	}
	if w.AgeMin != nil || w.AgeMax != nil {
		switch {
		case e.age == nil:
			missing = append(missing, NoteMissingAge)
		case w.AgeMin != nil && *e.age < *w.AgeMin, w.AgeMax != nil && *e.age > *w.AgeMax:
			return triNo, nil
		default:
			b.Age = e.age
		}
	}
	if w.needsKidney() {
		measure, v, substituted := "egfr", e.kidney.EGFR, false
		if w.KidneyMeasure == "crcl" {
			if e.kidney.CrCl != nil {
				measure, v = "crcl", e.kidney.CrCl
			} else {
				substituted = true
			}
		}
		switch {
		case v == nil:
			missing = append(missing, NoteMissingKidneyFunction)
		case w.KidneyBelow != nil && !(*v < *w.KidneyBelow),
			w.KidneyAtLeast != nil && !(*v >= *w.KidneyAtLeast),
			w.KidneyAtMost != nil && !(*v <= *w.KidneyAtMost):
			return triNo, nil
		default:
			b.Kidney = &KidneyBasis{Measure: measure, Value: *v, Substituted: substituted}
		}
	}
	if len(condAny) > 0 || len(condNone) > 0 {
		if len(e.conds) == 0 {
			missing = append(missing, NoteMissingConditions)
		} else {
			if len(condNone) > 0 && len(e.matchConds(condNone)) > 0 {
				return triNo, nil
			}
			if len(condAny) > 0 {
				m := e.matchConds(condAny)
				if len(m) == 0 {
					return triNo, nil
				}
				b.Conditions = m
			}
		}
	}
	if w.Falls != nil {
		switch {
		case e.falls == nil:
			missing = append(missing, NoteMissingFallsHistory)
		case *e.falls != *w.Falls:
			return triNo, nil
		default:
			b.Falls = *e.falls
		}
	}
	if len(missing) > 0 {
		return triUnknown, missing
	}
	return triYes, nil
}

// matchConds returns the patient's codes that start with any of prefixes.
func (e *evaluator) matchConds(prefixes []string) []string {
	var out []string
	for _, c := range e.conds {
		if matchesPrefix(c, prefixes) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func (e *evaluator) addFlag(cr *compiledRule, involved []int, b Basis) {
	f := Flag{
		Key: cr.ID, RuleID: cr.ID, Category: cr.Category, Severity: cr.Severity,
		Title: cr.Title, Basis: b, Mechanism: cr.Mechanism,
		Explanation: cr.Explanation, Action: cr.Action,
		Drugs:   make([]FlagDrug, len(involved)),
		Sources: make([]CitedSource, len(cr.Sources)),
	}
	if b.Group != "" {
		f.Key = cr.ID + ":" + b.Group
	}
	for i, idx := range involved {
		d := &e.res.Drugs[idx]
		f.Drugs[i] = FlagDrug{Index: idx, ATC: d.ATC, NameEN: d.NameEN, NameFI: d.NameFI, Ref: d.Ref, New: d.New}
	}
	for i, s := range cr.Sources {
		f.Sources[i] = CitedSource{Source: e.kb.sources[s.ID], Section: s.Section}
	}
	e.res.Flags = append(e.res.Flags, f)
	e.flagRule = append(e.flagRule, cr)
}

// supersede drops a flag when a fired rule that supersedes its rule
// involves all of its drugs (e.g. "two NSAIDs" replaces "same ATC group").
func (e *evaluator) supersede() {
	flags := e.res.Flags
	drop := make([]bool, len(flags))
	for i, cr := range e.flagRule {
		for _, sid := range cr.Supersedes {
			for j := range flags {
				if j != i && !drop[j] && flags[j].RuleID == sid && drugSubset(flags[j].Drugs, flags[i].Drugs) {
					drop[j] = true
				}
			}
		}
	}
	kept := flags[:0]
	for i, f := range flags {
		if !drop[i] {
			kept = append(kept, f)
		}
	}
	e.res.Flags = kept
	e.flagRule = nil
}

func drugSubset(a, b []FlagDrug) bool {
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y FlagDrug) bool { return y.Index == x.Index }) {
			return false
		}
	}
	return true
}

func (e *evaluator) sortFlags() {
	slices.SortStableFunc(e.res.Flags, func(a, b Flag) int {
		if d := a.Severity.rank() - b.Severity.rank(); d != 0 {
			return d
		}
		if d := a.Category.rank() - b.Category.rank(); d != 0 {
			return d
		}
		if d := strings.Compare(a.RuleID, b.RuleID); d != 0 {
			return d
		}
		return firstIndex(&a) - firstIndex(&b)
	})
}

func firstIndex(f *Flag) int {
	if len(f.Drugs) == 0 {
		return -1
	}
	return f.Drugs[0].Index
}

func (e *evaluator) buildNotes() {
	for _, reason := range noteOrder {
		acc := e.notes[reason]
		if acc == nil {
			continue
		}
		n := Note{Reason: reason, Message: noteMessages[reason]}
		for d := range acc.drugs {
			n.Drugs = append(n.Drugs, d)
		}
		for r := range acc.rules {
			n.Rules = append(n.Rules, r)
		}
		slices.Sort(n.Drugs)
		slices.Sort(n.Rules)
		e.res.Notes = append(e.res.Notes, n)
	}
}
