package retrieval

import (
	"strings"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"

	"github.com/soteai/gateway/assist"
)

// textSearchConfigs maps ISO 639-1 codes to the text-search configurations
// PostgreSQL ships (snowball stemmers). Other languages use "simple".
var textSearchConfigs = map[string]string{
	"fi": "finnish", "sv": "swedish", "en": "english",
	"da": "danish", "nb": "norwegian", "no": "norwegian", "nn": "norwegian",
	"de": "german", "nl": "dutch", "fr": "french", "es": "spanish", "it": "italian",
	"pt": "portuguese", "ru": "russian", "hu": "hungarian", "ro": "romanian", "tr": "turkish",
}

// TextSearchConfig returns the PostgreSQL text-search configuration for a
// language code: finnish, swedish, english, … or "simple" (no stemming)
// for unknown or undetermined languages.
func TextSearchConfig(lang string) string {
	if c, ok := textSearchConfigs[lang]; ok {
		return c
	}
	return "simple"
}

// LangUndetermined is the ISO 639-2 code for "undetermined".
const LangUndetermined = "und"

// NormalizeLang validates a language given by a caller: an ISO 639-1 code
// such as "fi", "sv" or "en" (case-insensitive; "auto" and "" mean detect,
// returned as ""). "und" stores the document without language-specific
// stemming.
func NormalizeLang(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "" || s == "auto":
		return "", nil
	case s == LangUndetermined:
		return s, nil
	case len(s) == 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z':
		return s, nil
	}
	return "", assist.Errorf(assist.KindInvalid, "unknown language %q (want an ISO 639-1 code such as fi, sv or en, or auto)", s)
}

// DetectLang guesses the language of a text from its letter trigrams and
// returns an ISO 639-1 code, or "und" when the guess is not reliable. Only
// the first 20,000 bytes are looked at.
func DetectLang(text string) string {
	if len(text) > 20000 {
		cut := 20000
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	info := whatlanggo.Detect(text)
	code := info.Lang.Iso6391()
	if code == "" || !info.IsReliable() {
		return LangUndetermined
	}
	return code
}
