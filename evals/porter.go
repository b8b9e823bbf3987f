package evals

import "strings"

// PorterStem stems an English word with the Porter algorithm as NLTK's
// PorterStemmer implements it in its default mode (NLTK_EXTENSIONS), the
// stemmer rouge_score uses: M. F. Porter, "An algorithm for suffix
// stripping", Program 14(3), 1980, with these documented departures:
//
//   - A few irregular forms map directly: sky/skies → sky, dying → die,
//     lying → lie, tying → tie, news → news, innings → inning, outings →
//     outing, cannings → canning, and howe, proceed, exceed, succeed stay.
//   - Words of one or two letters are returned unchanged.
//   - Step 1a: a four-letter word ending in "ies" becomes "…ie".
//   - Step 1b: "ied" becomes "ie" in a four-letter word, else "i".
//   - Step 1c: y → i only after a consonant that is not the first letter.
//   - Step 2: "alli" → "al" is tried first and step 2 repeated; "bli" →
//     "ble" replaces "abli" → "able"; "fulli" → "ful" and "logi" → "log"
//     (measure of the stem with its "l") are added.
//   - *o (cvc) also holds for a two-letter stem vowel + consonant.
//
// The word is lower-cased first. It is meant for ASCII English words;
// other text passes through the rules unchanged in practice.
func PorterStem(word string) string {
	w := strings.ToLower(word)
	if s, ok := porterIrregular[w]; ok {
		return s
	}
	if len(w) <= 2 {
		return w
	}
	w = porterStep1a(w)
	w = porterStep1b(w)
	w = porterStep1c(w)
	w = porterStep2(w)
	w = porterStep3(w)
	w = porterStep4(w)
	w = porterStep5a(w)
	w = porterStep5b(w)
	return w
}

var porterIrregular = map[string]string{
	"sky": "sky", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
	"innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
	"cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed",
	"exceed": "exceed", "succeed": "succeed",
}

// consonant reports whether w[i] is a consonant: not a, e, i, o, u, and
// y only when it follows a vowel or starts the word.
func consonant(w string, i int) bool {
	switch w[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !consonant(w, i-1)
	}
	return true
}

// measure is m in [C](VC)^m[V]: the number of vowel-consonant sequences.
func measure(s string) int {
	m := 0
	for i := 1; i < len(s); i++ {
		if consonant(s, i) && !consonant(s, i-1) {
			m++
		}
	}
	return m
}

func hasVowel(s string) bool {
	for i := range len(s) {
		if !consonant(s, i) {
			return true
		}
	}
	return false
}

func endsDoubleConsonant(s string) bool {
	n := len(s)
	return n >= 2 && s[n-1] == s[n-2] && consonant(s, n-1)
}

// endsCVC is *o: consonant-vowel-consonant with the last not w, x or y;
// or (NLTK) a two-letter vowel-consonant stem.
func endsCVC(s string) bool {
	n := len(s)
	if n >= 3 && consonant(s, n-3) && !consonant(s, n-2) && consonant(s, n-1) && !strings.ContainsRune("wxy", rune(s[n-1])) {
		return true
	}
	return n == 2 && !consonant(s, 0) && consonant(s, 1)
}

type porterRule struct {
	suffix, repl string
	cond         func(stem string) bool // nil: always
}

func positive(s string) bool { return measure(s) > 0 }
func above1(s string) bool   { return measure(s) > 1 }

// applyRules applies the first rule whose suffix the word ends with: if
// its condition holds on the stem the suffix is replaced, otherwise the
// word is returned unchanged (no later rule is tried).
func applyRules(w string, rules []porterRule) string {
	for _, r := range rules {
		if stem, ok := strings.CutSuffix(w, r.suffix); ok {
			if r.cond == nil || r.cond(stem) {
				return stem + r.repl
			}
			return w
		}
	}
	return w
}

func porterStep1a(w string) string {
	if len(w) == 4 && strings.HasSuffix(w, "ies") {
		return w[:1] + "ie"
	}
	return applyRules(w, []porterRule{{"sses", "ss", nil}, {"ies", "i", nil}, {"ss", "ss", nil}, {"s", "", nil}})
}

func porterStep1b(w string) string {
	if stem, ok := strings.CutSuffix(w, "ied"); ok {
		if len(w) == 4 {
			return stem + "ie"
		}
		return stem + "i"
	}
	if stem, ok := strings.CutSuffix(w, "eed"); ok {
		if measure(stem) > 0 {
			return stem + "ee"
		}
		return w
	}
	var stem string
	found := false
	for _, suf := range []string{"ed", "ing"} {
		if s, ok := strings.CutSuffix(w, suf); ok && hasVowel(s) {
			stem, found = s, true
			break
		}
	}
	if !found {
		return w
	}
	for _, r := range []porterRule{{"at", "ate", nil}, {"bl", "ble", nil}, {"iz", "ize", nil}} {
		if s, ok := strings.CutSuffix(stem, r.suffix); ok {
			return s + r.repl
		}
	}
	if endsDoubleConsonant(stem) {
		if last := stem[len(stem)-1]; last != 'l' && last != 's' && last != 'z' {
			return stem[:len(stem)-1]
		}
		return stem
	}
	if measure(stem) == 1 && endsCVC(stem) {
		return stem + "e"
	}
	return stem
}

func porterStep1c(w string) string {
	if stem, ok := strings.CutSuffix(w, "y"); ok && len(stem) > 1 && consonant(stem, len(stem)-1) {
		return stem + "i"
	}
	return w
}

func porterStep2(w string) string {
	if stem, ok := strings.CutSuffix(w, "alli"); ok && positive(stem) {
		return porterStep2(stem + "al")
	}
	return applyRules(w, []porterRule{
		{"ational", "ate", positive},
		{"tional", "tion", positive},
		{"enci", "ence", positive},
		{"anci", "ance", positive},
		{"izer", "ize", positive},
		{"bli", "ble", positive},
		{"alli", "al", positive},
		{"entli", "ent", positive},
		{"eli", "e", positive},
		{"ousli", "ous", positive},
		{"ization", "ize", positive},
		{"ation", "ate", positive},
		{"ator", "ate", positive},
		{"alism", "al", positive},
		{"iveness", "ive", positive},
		{"fulness", "ful", positive},
		{"ousness", "ous", positive},
		{"aliti", "al", positive},
		{"iviti", "ive", positive},
		{"biliti", "ble", positive},
		{"fulli", "ful", positive},
		// The "l" of "logi" counts with the stem.
		{"logi", "log", func(stem string) bool { return positive(stem + "l") }},
	})
}

func porterStep3(w string) string {
	return applyRules(w, []porterRule{
		{"icate", "ic", positive},
		{"ative", "", positive},
		{"alize", "al", positive},
		{"iciti", "ic", positive},
		{"ical", "ic", positive},
		{"ful", "", positive},
		{"ness", "", positive},
	})
}

func porterStep4(w string) string {
	return applyRules(w, []porterRule{
		{"al", "", above1},
		{"ance", "", above1},
		{"ence", "", above1},
		{"er", "", above1},
		{"ic", "", above1},
		{"able", "", above1},
		{"ible", "", above1},
		{"ant", "", above1},
		{"ement", "", above1},
		{"ment", "", above1},
		{"ent", "", above1},
		{"ion", "", func(s string) bool { return above1(s) && (strings.HasSuffix(s, "s") || strings.HasSuffix(s, "t")) }},
		{"ou", "", above1},
		{"ism", "", above1},
		{"ate", "", above1},
		{"iti", "", above1},
		{"ous", "", above1},
		{"ive", "", above1},
		{"ize", "", above1},
	})
}

func porterStep5a(w string) string {
	if stem, ok := strings.CutSuffix(w, "e"); ok {
		m := measure(stem)
		if m > 1 || m == 1 && !endsCVC(stem) {
			return stem
		}
	}
	return w
}

func porterStep5b(w string) string {
	if strings.HasSuffix(w, "ll") && measure(w[:len(w)-1]) > 1 {
		return w[:len(w)-1]
	}
	return w
}
