package summary

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/soteai/gateway/assist/audit"
)

// pseudonyms replaces personal identity codes and names with placeholders
// ([HETU-1], [NAME-1]) before text reaches a model, and restores them in
// the model's answer. One person's name gets one placeholder in every
// inflected form the matcher knows (Finnish case endings, the -nen/-sen
// stem), and is restored in its base form.
type pseudonyms struct {
	names   []nameForm // longest first
	byCode  map[string]string
	restore map[string]string // placeholder -> original
	n, h    int
}

type nameForm struct {
	re          *regexp.Regexp
	placeholder string
}

// honorifics precede a name in speech and in speaker labels.
var honorifics = []string{"mr", "mrs", "ms", "miss", "dr", "doctor", "herra", "rouva", "neiti", "tohtori", "fru", "herr", "doktor", "fröken"}

// roleWords are speaker labels that are roles, not names.
var roleWords = map[string]bool{"doctor": true, "patient": true, "nurse": true, "clinician": true, "physician": true,
	"guest": true, "family": true, "relative": true, "interpreter": true, "note": true, "patient_guest": true, "guest_family": true,
	"guest_clinician": true, "lääkäri": true, "potilas": true, "hoitaja": true, "sairaanhoitaja": true, "omainen": true, "tulkki": true,
	"läkare": true, "patienten": true, "sjuksköterska": true, "skötare": true, "anhörig": true, "tolk": true, "speaker": true, "other": true}

var honorificRe = regexp.MustCompile(`(?i)\b(?:` + strings.Join(honorifics, "|") + `)\.?\s+(\p{Lu}[\p{L}'-]+)`)

func newPseudonyms(turns []Turn, extra []string) *pseudonyms {
	p := &pseudonyms{byCode: map[string]string{}, restore: map[string]string{}}
	names := slices.Clone(extra)
	for _, t := range turns {
		if strings.Contains(t.ID, "/") || t.Speaker == "note" {
			continue // FHIR context and note lines have no speakers
		}
		// Speaker labels that are not roles are names ("Dr. Mäkinen", "Liisa").
		for w := range strings.FieldsSeq(t.Speaker) {
			w = strings.Trim(w, ".,:;")
			if isName(w) && !roleWords[strings.ToLower(w)] && !slices.Contains(honorifics, strings.ToLower(w)) {
				names = append(names, w)
			}
		}
		for _, m := range honorificRe.FindAllStringSubmatch(t.Text, -1) {
			names = append(names, m[1])
		}
	}
	seen := map[string]bool{}
	slices.SortFunc(names, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	for _, name := range names {
		name = strings.TrimSpace(name)
		key := strings.ToLower(name)
		if utf8.RuneCountInString(name) < 2 || seen[key] || roleWords[key] {
			continue
		}
		seen[key] = true
		p.n++
		ph := fmt.Sprintf("[NAME-%d]", p.n)
		p.restore[ph] = name
		p.names = append(p.names, nameForm{re: nameRegexp(name), placeholder: ph})
	}
	return p
}

func isName(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return utf8.RuneCountInString(w) >= 2 && unicode.IsUpper(r)
}

// nameRegexp matches name as a whole word, with up to five letters of
// case ending, and for Finnish -nen names the -se- stem (Virtanen,
// Virtasen, Virtaselle).
func nameRegexp(name string) *regexp.Regexp {
	alts := []string{regexp.QuoteMeta(name)}
	if stem, ok := strings.CutSuffix(name, "nen"); ok && stem != "" {
		alts = append(alts, regexp.QuoteMeta(stem)+"s")
	}
	return regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}])((?:` + strings.Join(alts, "|") + `)(?:'?[\p{Ll}:]{0,6})?)(?:$|[^\p{L}\p{N}])`)
}

// hide returns text with identity codes and names replaced.
func (p *pseudonyms) hide(text string) string {
	text = audit.RedactHETU(text, func(code string) string {
		ph, ok := p.byCode[code]
		if !ok {
			p.h++
			ph = fmt.Sprintf("[HETU-%d]", p.h)
			p.byCode[code] = ph
			p.restore[ph] = code
		}
		return ph
	})
	for _, nf := range p.names {
		text = replaceGroup(nf.re, text, nf.placeholder)
	}
	return text
}

// replaceGroup replaces submatch 1 of every match of re with repl,
// keeping the word boundaries matched around it.
func replaceGroup(re *regexp.Regexp, text, repl string) string {
	var b strings.Builder
	last := 0
	for {
		loc := re.FindStringSubmatchIndex(text[last:])
		if loc == nil {
			break
		}
		s, e := last+loc[2], last+loc[3]
		b.WriteString(text[last:s])
		b.WriteString(repl)
		// Continue at the end of the group so the boundary character can
		// start the next match.
		if e == last {
			e++
		}
		last = e
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

var placeholderRe = regexp.MustCompile(`\[(?:NAME|HETU)-[0-9]+\]`)

// reveal restores the placeholders in text; unknown ones stay as they are.
func (p *pseudonyms) reveal(text string) string {
	if !strings.Contains(text, "[") {
		return text
	}
	return placeholderRe.ReplaceAllStringFunc(text, func(ph string) string {
		if o, ok := p.restore[ph]; ok {
			return o
		}
		return ph
	})
}

// hideTurns returns copies of turns with text and speakers pseudonymised.
func (p *pseudonyms) hideTurns(turns []Turn) []Turn {
	out := make([]Turn, len(turns))
	for i, t := range turns {
		t.Text = p.hide(t.Text)
		t.Speaker = p.hide(t.Speaker)
		out[i] = t
	}
	return out
}
