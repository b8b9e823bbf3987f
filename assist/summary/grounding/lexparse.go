package grounding

import "strings"

// Concept kinds.
const (
	kindFinding = 'F'
	kindBody    = 'B'
	kindTest    = 'T'
	kindVital   = 'V'
	kindOther   = 'O'
)

type concept struct {
	id    string
	kind  byte
	parts []uint16 // a composite (headache = head + pain) is also supported by its parts
}

type form struct {
	words  []string // folded words; the last may be a prefix
	prefix bool     // the last word matches any word it begins
	cid    uint16
}

// lexicon is the parsed concept lexicon and stop words.
type lexicon struct {
	concepts []concept
	byID     map[string]uint16
	single   map[string][]form // one-word forms by their first min(4, len) bytes
	multi    map[string][]form // multi-word forms by their first word
	stop     map[string]bool
}

func newLexicon() *lexicon {
	lx := &lexicon{byID: map[string]uint16{}, single: map[string][]form{}, multi: map[string][]form{}, stop: map[string]bool{}}
	type pending struct {
		cid   uint16
		parts []string
	}
	var comps []pending
	for _, line := range strings.Split(conceptLexicon, "\n") {
		line = strings.TrimSpace(line)
		if len(line) < 3 || line[1] != ' ' {
			continue
		}
		kind := line[0]
		id, rest, ok := strings.Cut(line[2:], ":")
		if !ok {
			continue
		}
		id = strings.TrimSpace(id)
		cid, seen := lx.byID[id]
		if !seen {
			cid = uint16(len(lx.concepts))
			lx.concepts = append(lx.concepts, concept{id: id, kind: kind})
			lx.byID[id] = cid
		}
		if forms, comp, has := strings.Cut(rest, "="); has {
			rest = forms
			var parts []string
			for _, p := range strings.Split(comp, "+") {
				parts = append(parts, strings.TrimSpace(p))
			}
			comps = append(comps, pending{cid, parts})
		}
		for _, f := range strings.Split(rest, ",") {
			f = fold(strings.TrimSpace(f))
			if f == "" {
				continue
			}
			fm := form{cid: cid}
			if w, ok := strings.CutPrefix(f, "~"); ok {
				// a weak form ("back", "hand"): an ordinary word as often
				// as a body site; it supports the concept but is never
				// flagged by itself
				f = w
				wid := id + "~"
				wc, seen := lx.byID[wid]
				if !seen {
					wc = uint16(len(lx.concepts))
					lx.concepts = append(lx.concepts, concept{id: wid, kind: kindOther, parts: []uint16{cid}})
					lx.byID[wid] = wc
				}
				fm.cid = wc
			}
			if strings.HasSuffix(f, "*") {
				fm.prefix = true
				f = strings.TrimSuffix(f, "*")
			}
			fm.words = strings.FieldsFunc(f, func(r rune) bool { return r == ' ' })
			if len(fm.words) == 1 && strings.ContainsAny(f, "-/") {
				// x-ray, a-fib, slag/min: the tokenizer splits these
				fm.words = splitPunctWords(f)
			}
			if len(fm.words) == 1 {
				k := prefixKey(fm.words[0])
				lx.single[k] = append(lx.single[k], fm)
			} else if len(fm.words) > 1 {
				lx.multi[fm.words[0]] = append(lx.multi[fm.words[0]], fm)
			}
		}
	}
	for _, p := range comps {
		for _, id := range p.parts {
			if pc, ok := lx.byID[id]; ok {
				lx.concepts[p.cid].parts = append(lx.concepts[p.cid].parts, pc)
			}
		}
	}
	for _, w := range strings.Fields(stopwords) {
		lx.stop[fold(w)] = true
	}
	return lx
}

// splitPunctWords splits "x-ray" into "x", "-", "ray" as the tokenizer does.
func splitPunctWords(f string) []string {
	var out []string
	start := 0
	for i := 0; i < len(f); i++ {
		if f[i] == '-' || f[i] == '/' {
			if i > start {
				out = append(out, f[start:i])
			}
			out = append(out, f[i:i+1])
			start = i + 1
		}
	}
	if start < len(f) {
		out = append(out, f[start:])
	}
	return out
}

// wordConcepts appends the concepts named inside the folded word w: at
// the start (inflected: kivut, kipua) and, for Finnish and Swedish
// compounds, at a later part (rintakipu → chest + pain, bröstsmärta).
// At each position the longest form wins.
func (lx *lexicon) wordConcepts(w string, compounds bool, out []uint16) []uint16 {
	j := 0
	for j < len(w) {
		best := -1
		var bestC uint16
		for kl := 2; kl <= 4 && j+kl <= len(w); kl++ {
			for _, f := range lx.single[w[j:j+kl]] {
				fw := f.words[0]
				if len(fw) <= best {
					continue
				}
				if f.prefix {
					if j > 0 && len(fw) < 4 || len(fw) <= 3 && len(w)-j > len(fw)+4 {
						continue
					}
					if strings.HasPrefix(w[j:], fw) {
						best, bestC = len(fw), f.cid
					}
				} else if j == 0 && w == fw {
					best, bestC = len(fw), f.cid
				}
			}
		}
		if best > 0 {
			out = appendUnique(out, bestC)
			j += best
			if !compounds {
				break
			}
			continue
		}
		if !compounds {
			break
		}
		if j == 0 {
			j = 3 // a compound's first part has at least three letters
		} else {
			j++
		}
		if len(w)-j < 4 {
			break
		}
	}
	return out
}

func appendUnique(s []uint16, c uint16) []uint16 {
	for _, x := range s {
		if x == c {
			return s
		}
	}
	return append(s, c)
}

// kindOf returns the strongest kind among concepts (F > B > T > V > O).
func (lx *lexicon) kindOf(cs []uint16) byte {
	best := byte(0)
	rank := func(k byte) int { return strings.IndexByte("OVTBF", k) }
	for _, c := range cs {
		k := lx.concepts[c].kind
		if best == 0 || rank(k) > rank(best) {
			best = k
		}
	}
	return best
}
