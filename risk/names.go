package risk

import (
	"strings"
	"unicode"
)

// MatchMethod says how an input drug was resolved to an ATC code.
type MatchMethod string

const (
	MatchATC    MatchMethod = "atc"     // the caller gave the ATC code
	MatchNameEN MatchMethod = "name_en" // English generic name
	MatchNameFI MatchMethod = "name_fi" // Finnish generic name
	MatchBrand  MatchMethod = "brand"   // a brand (trade) name used in Finland
	MatchAlias  MatchMethod = "alias"   // a synonym listed in the catalogue
	MatchNone   MatchMethod = "none"    // not recognised
)

// nameHit is one entry of the name index.
type nameHit struct {
	atc    string
	method MatchMethod
}

// normalizeName lower-cases a drug name, folds the Finnish and Swedish
// letters to ASCII (ä→a, ö→o, å→a) and other diacritics away, drops
// trademark signs and punctuation except '-' and '/', and collapses spaces.
// Both the index and look-ups use it, so "Mäkikuisma" matches "makikuisma".
func normalizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'ä', 'å', 'á', 'à', 'â':
			r = 'a'
		case 'ö', 'ó', 'ò', 'ô', 'ø':
			r = 'o'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'ü', 'ú':
			r = 'u'
		case 'í', 'ï':
			r = 'i'
		case 'š':
			r = 's'
		case 'ž':
			r = 'z'
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '/':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '®' || r == '™':
			// dropped
		default:
			space = true
		}
	}
	return b.String()
}

// nameCandidates lists the look-up keys tried for an input name, longest
// first: the whole normalised name, then the words before the first token
// that contains a digit ("marevan 3 mg tabl" → "marevan"), then shorter
// word prefixes of that ("seloken zoc" → "seloken").
func nameCandidates(name string) []string {
	n := normalizeName(name)
	if n == "" {
		return nil
	}
	out := []string{n}
	words := strings.Fields(n)
	cut := len(words)
	for i, w := range words {
		if strings.IndexFunc(w, unicode.IsDigit) >= 0 {
			cut = i
			break
		}
	}
	for k := cut; k >= 1; k-- {
		c := strings.Join(words[:k], " ")
		if c != out[len(out)-1] && c != n {
			out = append(out, c)
		}
	}
	return out
}
