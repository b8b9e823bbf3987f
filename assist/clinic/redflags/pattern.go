package redflags

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxGap is how many other words a "..." in a pattern may skip.
const maxGap = 4

// A pattern is a sequence of word elements, written as space-separated
// words: "rintakip*" matches any word starting with "rintakip", "a|b"
// either word, and "..." up to maxGap other words of the same clause.
// Words are lower case; a pattern never starts or ends with "...".
type pattern struct {
	src   string
	elems []elem
}

type elem struct {
	gap  bool
	alts []alt
}

type alt struct {
	word   string
	prefix bool
}

func (a alt) matches(w string) bool {
	if a.prefix {
		return strings.HasPrefix(w, a.word)
	}
	return w == a.word
}

// hasWord reports whether some element of p lists one of words literally.
func (p *pattern) hasWord(words map[string]bool) bool {
	for _, e := range p.elems {
		for _, a := range e.alts {
			if !a.prefix && words[a.word] {
				return true
			}
		}
	}
	return false
}

func (e elem) matches(w string) bool {
	for _, a := range e.alts {
		if a.matches(w) {
			return true
		}
	}
	return false
}

// compilePattern parses one pattern.
func compilePattern(src string) (pattern, error) {
	p := pattern{src: src}
	fields := strings.Fields(src)
	if len(fields) == 0 {
		return p, fmt.Errorf("empty pattern")
	}
	for i, f := range fields {
		if f == "..." {
			if i == 0 || i == len(fields)-1 || p.elems[len(p.elems)-1].gap {
				return p, fmt.Errorf("pattern %q: \"...\" must stand between two words", src)
			}
			p.elems = append(p.elems, elem{gap: true})
			continue
		}
		var e elem
		for _, w := range strings.Split(f, "|") {
			a := alt{word: w}
			if strings.HasSuffix(w, "*") {
				a.word, a.prefix = strings.TrimSuffix(w, "*"), true
				if utf8.RuneCountInString(a.word) < 2 {
					return p, fmt.Errorf("pattern %q: prefix %q is shorter than two letters", src, w)
				}
			}
			if a.word == "" || strings.ToLower(a.word) != a.word || strings.ContainsAny(a.word, "*;:!?()") {
				return p, fmt.Errorf("pattern %q: %q is not a lower-case word", src, w)
			}
			probe := a.word
			if a.prefix {
				probe += "0" // "38,*" is a prefix of the token "38,5"
			}
			toks := tokenize(probe, nil)
			if len(toks) != 1 || toks[0].text != probe {
				return p, fmt.Errorf("pattern %q: %q is not one word as messages are tokenized", src, w)
			}
			e.alts = append(e.alts, a)
		}
		p.elems = append(p.elems, e)
	}
	return p, nil
}

// matchAt tries the pattern at token i; it returns the index of the last
// token of the shortest match.
func (p *pattern) matchAt(toks []token, i int) (int, bool) {
	return matchFrom(p.elems, toks, i, toks[i].clause)
}

// matchFrom matches elems from token i; a match stays within one clause.
func matchFrom(elems []elem, toks []token, i, clause int) (int, bool) {
	e := elems[0]
	if e.gap {
		// elems[1] exists and is a word (compilePattern guarantees it).
		for skip := 0; skip <= maxGap && i+skip < len(toks); skip++ {
			if end, ok := matchFrom(elems[1:], toks, i+skip, clause); ok {
				return end, true
			}
		}
		return 0, false
	}
	if i >= len(toks) || toks[i].clause != clause || !e.matches(toks[i].text) {
		return 0, false
	}
	if len(elems) == 1 {
		return i, true
	}
	return matchFrom(elems[1:], toks, i+1, clause)
}

// matcher finds every occurrence of a set of patterns. Patterns are
// indexed by their first word: exact words in a map, prefixes by their
// first two letters.
type matcher struct {
	patterns []pattern
	owner    []int // owner[i] is the caller's id for patterns[i]
	exact    map[string][]int
	prefix   map[string][]int
}

func newMatcher() *matcher {
	return &matcher{exact: map[string][]int{}, prefix: map[string][]int{}}
}

func (m *matcher) add(p pattern, owner int) {
	id := len(m.patterns)
	m.patterns = append(m.patterns, p)
	m.owner = append(m.owner, owner)
	seen := map[string]bool{}
	for _, a := range p.elems[0].alts {
		idx, k := m.exact, a.word
		if a.prefix {
			idx, k = m.prefix, key2(a.word)
		}
		if seen[fmt.Sprint(a.prefix, k)] {
			continue
		}
		seen[fmt.Sprint(a.prefix, k)] = true
		idx[k] = append(idx[k], id)
	}
}

// key2 is the first two runes of w (w has at least two).
func key2(w string) string {
	_, a := utf8.DecodeRuneInString(w)
	_, b := utf8.DecodeRuneInString(w[a:])
	return w[:a+b]
}

// occurrence is one match: pattern owner and token range [first, last].
type occurrence struct {
	owner       int
	pattern     int
	first, last int
}

// find appends every match in toks to out, in token order. A pattern
// matching at several start tokens yields several occurrences.
func (m *matcher) find(toks []token, out []occurrence) []occurrence {
	for i := range toks {
		w := toks[i].text
		for _, id := range m.exact[w] {
			if last, ok := m.patterns[id].matchAt(toks, i); ok {
				out = append(out, occurrence{owner: m.owner[id], pattern: id, first: i, last: last})
			}
		}
		if utf8.RuneCountInString(w) < 2 {
			continue
		}
		for _, id := range m.prefix[key2(w)] {
			if last, ok := m.patterns[id].matchAt(toks, i); ok {
				out = append(out, occurrence{owner: m.owner[id], pattern: id, first: i, last: last})
			}
		}
	}
	return out
}
