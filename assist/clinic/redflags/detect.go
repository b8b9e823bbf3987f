package redflags

import "sync"

// Scope windows, in words between the cue and the concept.
const (
	preWindow  = 5
	postWindow = 3
)

// Message is one patient message. Lang ("fi", "sv", "en") picks the
// negation cues; empty means guess it with Lang.
type Message struct {
	Text string
	Lang string
}

// Span is a stretch of one message: code-point offsets [Start, End) into
// the text of messages[Message] as given to Detect.
type Span struct {
	Message int    `json:"message"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Concept string `json:"concept"`
}

// Excluded is a concept found in a message but not asserted: negated,
// hypothetical or history.
type Excluded struct {
	Span
	Cue string `json:"cue"` // CueNegation, CueHypothetical or CueHistory
}

// Finding is a raised red flag.
type Finding struct {
	Rule    string     `json:"rule"`
	Flag    string     `json:"flag"`
	Urgency Urgency    `json:"urgency"`
	Title   Text       `json:"title"`
	Sources []Citation `json:"sources"`
	// Evidence are the asserted concept matches the rule rests on.
	Evidence []Span `json:"evidence"`
}

// Result is what Detect found in a conversation.
type Result struct {
	Version string `json:"version"`
	// Urgency is the most urgent level of the findings; empty when there
	// is none.
	Urgency  Urgency    `json:"urgency,omitempty"`
	Findings []Finding  `json:"findings"`
	Excluded []Excluded `json:"excluded"`
	// Langs is the language used for each message ("" if unknown).
	Langs []string `json:"langs"`
}

// Flagged reports whether flag was raised.
func (r Result) Flagged(flag string) bool {
	for _, f := range r.Findings {
		if f.Flag == flag {
			return true
		}
	}
	return false
}

type scratch struct {
	toks []token
	occ  []occurrence
	cues []occurrence
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

// Detect applies the rules to the patient's messages of one conversation
// (the professional's messages are not given: a nurse's question "any
// chest pain?" is not a symptom). Concepts asserted in different messages
// combine: "chest pain" in one and "can't breathe" in the next raise the
// flag. Findings are in rule order; the same input always gives the same
// result.
func (s *Set) Detect(msgs []Message) Result {
	res := Result{Version: s.version, Findings: []Finding{}, Excluded: []Excluded{}, Langs: make([]string, len(msgs))}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	asserted := make([][]Span, len(s.concepts))
	for mi, m := range msgs {
		sc.toks = tokenize(m.Text, sc.toks)
		toks := sc.toks
		lang := m.Lang
		if lang == "" {
			lang = langOf(toks, m.Text)
		}
		res.Langs[mi] = lang
		sc.occ = s.con.find(toks, sc.occ[:0])
		if len(sc.occ) == 0 {
			continue
		}
		sc.cues = s.activeCues(toks, lang, sc.cues[:0])
		for _, o := range sc.occ {
			sp := Span{Message: mi, Start: toks[o.first].start, End: toks[o.last].end, Concept: s.concepts[o.owner].ID}
			if kind := s.excludedBy(toks, o, sc.cues); kind != "" {
				res.Excluded = appendExcluded(res.Excluded, Excluded{Span: sp, Cue: kind})
				continue
			}
			asserted[o.owner] = appendSpan(asserted[o.owner], sp)
		}
	}
	for ri, r := range s.rules {
		var ev []Span
		ok := true
		for _, ci := range s.ruleAll[ri] {
			if len(asserted[ci]) == 0 {
				ok = false
				break
			}
			ev = append(ev, asserted[ci]...)
		}
		if !ok {
			continue
		}
		if len(s.ruleAny[ri]) > 0 {
			anyOK := false
			for _, ci := range s.ruleAny[ri] {
				if len(asserted[ci]) > 0 {
					anyOK = true
					ev = append(ev, asserted[ci]...)
				}
			}
			if !anyOK {
				continue
			}
		}
		res.Findings = append(res.Findings, Finding{Rule: r.ID, Flag: r.Flag, Urgency: r.Urgency, Title: r.Title,
			Sources: s.Cite(r.Sources), Evidence: ev})
		res.Urgency = MoreUrgent(res.Urgency, r.Urgency)
	}
	return res
}

// activeCues finds the cue phrases of the message's language (every
// language when unknown, except ambiguous words), minus those inside a
// pseudo-negation phrase.
func (s *Set) activeCues(toks []token, lang string, out []occurrence) []occurrence {
	all := s.cue.find(toks, out)
	keep := all[:0]
	for _, o := range all {
		c := s.cues[o.owner]
		if c.lang != lang && (lang != "" || c.ambiguous) {
			continue
		}
		keep = append(keep, o)
	}
	// Drop cues that start inside a pseudo-negation, then the pseudo ones.
	out = keep
	n := 0
	for _, o := range out {
		if s.cues[o.owner].kind == cuePseudo {
			continue
		}
		inPseudo := false
		for _, p := range out {
			if s.cues[p.owner].kind == cuePseudo && o.first >= p.first && o.first <= p.last {
				inPseudo = true
				break
			}
		}
		if !inPseudo {
			out[n] = o
			n++
		}
	}
	return out[:n]
}

// excludedBy returns the kind of the cue whose scope covers the concept
// occurrence o, or "".
func (s *Set) excludedBy(toks []token, o occurrence, cues []occurrence) string {
	for _, c := range cues {
		cu := s.cues[c.owner]
		if c.first > o.first && c.first <= o.last {
			// Inside the match: "niska ei ole jäykkä" denies a stiff neck,
			// unless the pattern spells the negation itself.
			if cu.kind == CueNegation && s.negates[o.pattern] {
				return cu.kind
			}
			continue
		}
		if cu.post {
			if c.first > o.last && c.first-o.last-1 <= postWindow && toks[c.first].clause == toks[o.last].clause {
				return cu.kind
			}
			continue
		}
		if c.last < o.first && o.first-c.last-1 <= preWindow && toks[c.last].clause == toks[o.first].clause {
			return cu.kind
		}
	}
	return ""
}

func appendSpan(list []Span, sp Span) []Span {
	for _, x := range list {
		if x == sp {
			return list
		}
	}
	return append(list, sp)
}

func appendExcluded(list []Excluded, e Excluded) []Excluded {
	for _, x := range list {
		if x == e {
			return list
		}
	}
	return append(list, e)
}
