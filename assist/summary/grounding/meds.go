package grounding

import (
	"strings"

	"github.com/soteai/gateway/risk"
)

// drugKey folds a drug name to a spelling-neutral key, so that the English,
// Finnish and Swedish spellings of one substance meet: c before e/i/y → s,
// other c → k, qu → kv, ph → f, th → t, z/ts → s, x → ks, w → v, y → i,
// double letters single, final vowels dropped. "quetiapine", "ketiapiini"
// and "kvetiapin" give "kvetiapin"/"ketiapin"; "diazepam" and "diatsepaami"
// both give "diasepam".
func drugKey(w string) string {
	var b strings.Builder
	b.Grow(len(w) + 2)
	var prev byte
	emit := func(c byte) {
		if c == prev {
			return
		}
		b.WriteByte(c)
		prev = c
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		var next byte
		if i+1 < len(w) {
			next = w[i+1]
		}
		switch {
		case c < 'a' || c > 'z':
			continue
		case c == 'c':
			if next == 'e' || next == 'i' || next == 'y' {
				emit('s')
			} else if next == 'k' {
				continue
			} else {
				emit('k')
			}
		case c == 'q' && next == 'u':
			emit('k')
			emit('v')
			i++
		case c == 'p' && next == 'h':
			emit('f')
			i++
		case c == 't' && next == 'h':
			emit('t')
			i++
		case c == 't' && next == 's':
			emit('s')
			i++
		case c == 'z':
			emit('s')
		case c == 'x':
			emit('k')
			emit('s')
		case c == 'w':
			emit('v')
		case c == 'y':
			emit('i')
		default:
			emit(c)
		}
	}
	s := b.String()
	for len(s) > 4 && strings.IndexByte("aeiou", s[len(s)-1]) >= 0 {
		s = s[:len(s)-1]
	}
	return s
}

// medIndex finds the substances of the risk catalogue in text by their
// English and Finnish generic names, brands and aliases (Swedish generic
// names meet the English and Finnish ones through drugKey).
type medIndex struct {
	// single: one-word names by drugKey → ATC code
	single map[string]string
	// multi: multi-word names by their first word's key
	multi map[string][]multiName
	// display: ATC → English name for evidence texts
	display map[string]string
}

type multiName struct {
	keys []string
	atc  string
}

func newMedIndex(drugs []risk.Drug) *medIndex {
	m := &medIndex{single: map[string]string{}, multi: map[string][]multiName{}, display: map[string]string{}}
	for _, d := range drugs {
		m.display[d.ATC] = d.NameEN
		names := []string{d.NameEN, d.NameFI}
		names = append(names, d.Brands...)
		names = append(names, d.Aliases...)
		for _, n := range names {
			// "acetylsalicylic acid (antiplatelet)": drop the parenthesis
			if i := strings.IndexByte(n, '('); i > 0 {
				n = n[:i]
			}
			words := strings.FieldsFunc(fold(n), func(r rune) bool { return r == ' ' || r == '-' || r == '/' })
			if len(words) == 0 {
				continue
			}
			keys := make([]string, len(words))
			for i, w := range words {
				keys[i] = drugKey(w)
			}
			if len(keys) == 1 {
				if len(keys[0]) < 3 {
					continue
				}
				if _, dup := m.single[keys[0]]; !dup {
					m.single[keys[0]] = d.ATC
				}
				continue
			}
			// "codeine and paracetamol" is found as its parts
			if words[1] == "and" || words[1] == "ja" || words[1] == "och" {
				continue
			}
			m.multi[keys[0]] = append(m.multi[keys[0]], multiName{keys, d.ATC})
		}
	}
	return m
}

// lookupWord returns the ATC code of a one-word drug name in the folded
// word w, which may carry a Finnish or Swedish ending ("marevania",
// "varfariinin") or be the first part of a compound ("burana-tabletti"
// arrives as two tokens).
func (m *medIndex) lookupWord(w string) (string, bool) {
	if len(w) < 4 {
		return "", false
	}
	k := drugKey(w)
	if atc, ok := m.single[k]; ok {
		return atc, true
	}
	// inflected: strip up to six letters of ending, keeping five of stem;
	// a short name takes only case endings ("Zocor" is not in "sökorsak")
	for n := len(k) - 1; n >= 5 && len(k)-n <= 6; n-- {
		if atc, ok := m.single[k[:n]]; ok && (n >= 8 || caseEndings[k[n:]]) {
			return atc, true
		}
	}
	return "", false
}

// caseEndings are Finnish and Swedish endings as they remain after drugKey
// (final vowels dropped): marevanin, panadolilla, buranasta, Waranen.
var caseEndings = map[string]bool{"n": true, "in": true, "ii": true, "iin": true, "is": true, "ist": true, "iss": true, "il": true,
	"ill": true, "ilt": true, "ile": true, "l": true, "ll": true, "lt": true, "s": true, "ss": true, "st": true, "ks": true, "j": true,
	"t": true, "en": true, "et": true, "er": true, "ns": true, "h": true, "ih": true, "hin": true, "k": true, "kin": true}

// drugSuffixes are endings of generic drug names (INN stems) in the three
// languages' spellings, after drugKey: a word with one of them is read as a
// medication even when the catalogue does not list it.
var drugSuffixes = []string{
	"pril", "sartan", "olol", "statin", "mikin", "misin", "silin", "siklin", "floksasin",
	"prasol", "tidin", "dipin", "gliptin", "gliflosin", "parin", "ksaban", "triptan",
	"lukast", "semid", "tiasid", "oksetin", "afil", "kort", "metason", "nisolon", "solon",
	"stigmin", "ronium", "terol", "bamat", "setron", "sosin", "vir", "umab", "imab", "inib",
	"tinib", "formin", "glitason", "tiroksin", "profen", "fenak", "koksib", "mesin",
	"kain", "asepam", "asolam", "apin", "idon", "tilin", "pramin", "aserin", "mysin",
	"pisid", "burid", "pirid", "klasid", "kodon", "morfon", "benzaprin", "sepin", "tropium", "lukast", "tiapin",
}

// looksLikeDrug reports whether the folded word w has the shape of a
// generic drug name.
func looksLikeDrug(w string) bool {
	if len(w) < 6 {
		return false
	}
	k := drugKey(w)
	for _, s := range drugSuffixes {
		if len(k) < len(s)+3 || len(s) <= 3 && len(k) < len(s)+5 {
			continue
		}
		if strings.HasSuffix(k, s) || strings.HasSuffix(k, s+"n") {
			return true
		}
		// an inflected form (penisilliinille, amoksisilliinia) keeps a long stem
		if len(s) >= 4 {
			for cut := 1; cut <= 4 && len(k)-cut >= len(s)+3; cut++ {
				if strings.HasSuffix(k[:len(k)-cut], s) && caseEndings[k[len(k)-cut:]] {
					return true
				}
			}
		}
	}
	return false
}
