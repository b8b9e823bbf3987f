package redflags

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one lower-cased word of a message with its code-point offsets.
type token struct {
	text       string
	start, end int // code points in the original text
	sentence   int // tokens of different sentences never form one match
	clause     int // negation scope ends at a clause boundary
}

// tokenize splits text into word tokens. Letters, digits and apostrophes
// inside a word form tokens; a '.' or ',' between digits stays inside the
// token (38,5). Sentence ends (. ! ? ; new line) and clause ends (, : and
// dashes) are recorded on the tokens that follow them; contrast words
// (see isContrast) start a new clause themselves.
func tokenize(text string, buf []token) []token {
	toks := buf[:0]
	var (
		sb       strings.Builder
		start    int
		cp       int // code-point index of the current rune
		sentence int
		clause   int
		inWord   bool
	)
	flush := func(end int) {
		if !inWord {
			return
		}
		w := sb.String()
		sb.Reset()
		inWord = false
		if isContrast(w) {
			clause++
		}
		toks = append(toks, token{text: w, start: start, end: end, sentence: sentence, clause: clause})
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		next := rune(0)
		if i+size < len(text) {
			next, _ = utf8.DecodeRuneInString(text[i+size:])
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !inWord {
				inWord, start = true, cp
			}
			sb.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’') && inWord && unicode.IsLetter(next):
			sb.WriteByte('\'')
		case (r == '.' || r == ',') && inWord && unicode.IsDigit(next) && lastIsDigit(&sb):
			sb.WriteRune(r)
		default:
			flush(cp)
			switch r {
			case '.', '!', '?', ';', '\n', '…':
				sentence++
				clause++
			case ',', ':', '–', '—', '(', ')':
				clause++
			}
		}
		i += size
		cp++
	}
	flush(cp)
	return toks
}

func lastIsDigit(sb *strings.Builder) bool {
	s := sb.String()
	return s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
}

// isContrast reports the words that end a negation's scope: "no fever but
// chest pain" asserts the chest pain.
func isContrast(w string) bool {
	switch w {
	case "mutta", "vaan", "kuitenkin", "paitsi", "silti",
		"men", "utom", "fast", "dock", "ändå",
		"but", "however", "although", "though", "except", "yet":
		return true
	}
	return false
}

// Lang guesses the language of a patient message: "fi", "sv" or "en", or
// "" when it cannot tell. It counts frequent function words and the
// letter å; it is meant for picking negation cues and the reply
// language, not as a general language identifier.
func Lang(text string) string {
	var buf [64]token
	return langOf(tokenize(text, buf[:0]), text)
}

func langOf(toks []token, text string) string {
	var fi, sv, en int
	for _, t := range toks {
		switch t.text {
		case "ja", "on", "ei", "en", "että", "minulla", "olen", "mutta", "nyt", "kun", "se", "ole", "oli", "myös", "tai", "eikä", "minun", "minua", "sitten", "päivää", "voiko", "onko", "lapsella", "miten", "mitä", "kuin", "vähän":
			fi++
			if t.text == "en" {
				sv++ // "en" is also Swedish
			}
		case "och", "är", "jag", "har", "inte", "det", "som", "att", "med", "för", "mig", "min", "ingen", "kan", "sedan", "nu", "men", "också", "eller", "hur", "vad", "barnet", "ont", "dagar", "någon", "inga":
			sv++
		case "the", "and", "is", "i", "have", "my", "not", "it", "with", "for", "me", "no", "has", "been", "since", "days", "but", "can", "what", "how", "or", "do", "of", "a", "am", "i'm", "should", "any":
			en++
		}
	}
	if strings.ContainsAny(text, "åÅ") {
		sv += 2
	}
	switch {
	case fi > sv && fi > en:
		return "fi"
	case sv > fi && sv > en:
		return "sv"
	case en > fi && en > sv:
		return "en"
	}
	return ""
}
