package interpret

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/retrieval"
)

// Searcher finds passages in a retrieval collection:
// (*retrieval.Service).Search. Errors: its kinds (not_found for an unknown
// collection).
type Searcher interface {
	Search(ctx context.Context, q retrieval.Query) (retrieval.Hits, error)
}

// Term is a glossary entry found in a segment: the term as said and the
// term the translation must use.
type Term struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Target string `json:"target"`
}

// GlossaryEntry is one term of a glossary in several languages.
type GlossaryEntry struct {
	ID    string
	Terms map[string]string // language → term
}

// termKey is the metadata key of a language's term in a glossary document.
func termKey(lang string) string { return "term." + lang }

// IngestRequest makes the retrieval document of a glossary entry: one small
// document per entry whose text lists the terms (for full-text search) and
// whose metadata holds each language's term (for the exact match).
func (g GlossaryEntry) IngestRequest(collection, source string) retrieval.IngestRequest {
	langs := make([]string, 0, len(g.Terms))
	for l := range g.Terms {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	meta := map[string]string{"glossary_id": g.ID, "glossary_source": source}
	var text strings.Builder
	for _, l := range langs {
		meta[termKey(l)] = g.Terms[l]
		fmt.Fprintf(&text, "%s: %s\n", l, g.Terms[l])
	}
	title := g.Terms["en"]
	if title == "" {
		title = g.ID
	}
	return retrieval.IngestRequest{
		Collection: collection, Source: source + "/" + g.ID, Title: title, Format: retrieval.FormatText,
		Lang: retrieval.LangUndetermined, Metadata: meta, Data: []byte(text.String()),
	}
}

// ReadTICO19 reads a TICO-19 terminology file (JSON lines with "id" and
// one field per language code; null for a missing translation; other
// fields such as "pos" and "description" are ignored). Errors: invalid
// with the line number.
func ReadTICO19(r io.Reader) ([]GlossaryEntry, error) {
	var out []GlossaryEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return nil, assist.Errorf(assist.KindInvalid, "glossary line %d is not a JSON object", line)
		}
		id, _ := raw["id"].(string)
		if id == "" {
			return nil, assist.Errorf(assist.KindInvalid, "glossary line %d has no id", line)
		}
		e := GlossaryEntry{ID: id, Terms: map[string]string{}}
		for k, v := range raw {
			s, ok := v.(string)
			if !ok || k == "id" || len(k) != 2 || strings.TrimSpace(s) == "" {
				continue
			}
			if lang, err := normalizeLang(k); err == nil && lang == k {
				e.Terms[k] = strings.TrimSpace(s)
			}
		}
		if len(e.Terms) < 2 {
			return nil, assist.Errorf(assist.KindInvalid, "glossary line %d has fewer than two languages", line)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, assist.E(assist.KindInvalid, "interpret.ReadTICO19", "cannot read the glossary file", err)
	}
	return out, nil
}

// queryWords makes a full-text query that matches any glossary document
// sharing a word with text: its distinct words joined by "or" (the
// websearch syntax), at most max of them.
func queryWords(text string, max int) string {
	seen := map[string]bool{}
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(w)) < 2 || w == "or" || seen[w] {
			continue
		}
		seen[w] = true
		words = append(words, w)
		if len(words) == max {
			break
		}
	}
	return strings.Join(words, " or ")
}

// containsPhrase reports whether phrase occurs in text as whole words,
// ignoring case.
func containsPhrase(text, phrase string) bool {
	t, p := strings.ToLower(text), strings.ToLower(strings.TrimSpace(phrase))
	if p == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(t[i:], p)
		if j < 0 {
			return false
		}
		a, b := i+j, i+j+len(p)
		if boundary(t, a, true) && boundary(t, b, false) {
			return true
		}
		i = a + 1
	}
}

func boundary(t string, at int, before bool) bool {
	var r rune
	if before {
		if at == 0 {
			return true
		}
		r = []rune(t[:at])[len([]rune(t[:at]))-1]
	} else {
		if at >= len(t) {
			return true
		}
		r = []rune(t[at:])[0]
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// findTerms searches the glossary collection for the entries whose term
// in from occurs in text and that have a term in to.
func findTerms(ctx context.Context, s Searcher, collection, text, from, to string) ([]Term, []string, error) {
	q := queryWords(text, 64)
	if s == nil || collection == "" || q == "" {
		return nil, nil, nil
	}
	hits, err := s.Search(ctx, retrieval.Query{Collection: collection, Text: q, Mode: retrieval.ModeFullText, K: 100})
	if err != nil {
		return nil, nil, err
	}
	var terms []Term
	var sources []string
	seen := map[string]bool{}
	for _, h := range hits.Results {
		src, dst := h.Metadata[termKey(from)], h.Metadata[termKey(to)]
		id := h.Metadata["glossary_id"]
		if src == "" || dst == "" || seen[id] || !containsPhrase(text, src) {
			continue
		}
		seen[id] = true
		terms = append(terms, Term{ID: id, Source: src, Target: dst})
		sources = append(sources, h.SourceID())
	}
	// Longest terms first: "acute bronchitis" before "bronchitis".
	sort.SliceStable(terms, func(i, j int) bool { return len(terms[i].Source) > len(terms[j].Source) })
	if len(terms) > 20 {
		terms = terms[:20]
	}
	return terms, sources, nil
}
