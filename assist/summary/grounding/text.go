package grounding

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fold lower-cases s and folds the Nordic and other accented letters to
// ASCII (ä→a, ö→o, å→a, é→e, µ→u), so that "Mäkikuisma" and "makikuisma",
// "µg" and "ug" compare equal. Both sources and drafts are folded alike.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	switch r {
	case 'ä', 'Ä', 'å', 'Å', 'á', 'à', 'â', 'Á', 'À', 'Â', 'æ', 'Æ':
		return 'a'
	case 'ö', 'Ö', 'ó', 'ò', 'ô', 'Ó', 'Ò', 'Ô', 'ø', 'Ø', 'õ':
		return 'o'
	case 'é', 'è', 'ê', 'ë', 'É', 'È', 'Ê', 'Ë':
		return 'e'
	case 'ü', 'ú', 'ù', 'û', 'Ü', 'Ú', 'µ', 'μ':
		return 'u'
	case 'í', 'ì', 'î', 'ï', 'Í', 'Ì':
		return 'i'
	case 'š', 'Š':
		return 's'
	case 'ž', 'Ž':
		return 'z'
	case 'ç', 'Ç':
		return 'c'
	case 'ñ':
		return 'n'
	case '’', '‘', '´', '`':
		return '\''
	case '–', '—', '‐', '‑':
		return '-'
	case '×':
		return 'x'
	}
	return unicode.ToLower(r)
}

// tokKind classifies a token.
type tokKind uint8

const (
	tWord  tokKind = iota // letters (and digits after letters: spo2, b12)
	tNum                  // a number written in digits
	tPunct                // one punctuation or symbol character
)

// token is one token of a folded text.
type token struct {
	kind tokKind
	s    string  // folded text of the token
	num  float64 // value of a tNum
	sp   bool    // preceded by white space (or at the start)
	pos  int     // byte offset in the folded text
	end  int     // byte offset after the token
}

// tokenize splits folded text into words, numbers and single punctuation
// characters. A decimal comma or point between digits (2,5 / 0.5) stays in
// the number; digits glued to letters before them stay in the word (spo2);
// letters glued after digits start a new token (10mg → 10 mg).
func tokenize(s string, commaThousands bool) []token {
	toks := make([]token, 0, len(s)/4+1)
	sp := true
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r):
			sp = true
			i += n
		case r >= '0' && r <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			// a decimal part: "2,5" or "0.5" but not "3.2." (a date) nor "1,2,3"
			inDate := i >= 2 && s[i-1] == '.' && s[i-2] >= '0' && s[i-2] <= '9'
			// "1,792" in English is a thousand and more
			for commaThousands && j+4 <= len(s) && s[j] == ',' && isDigits(s[j+1:j+4]) && (j+4 == len(s) || !isDigits(s[j+4:j+5])) {
				j += 4
			}
			if !inDate && j+1 < len(s) && (s[j] == ',' || s[j] == '.') && s[j+1] >= '0' && s[j+1] <= '9' {
				k := j + 1
				for k < len(s) && s[k] >= '0' && s[k] <= '9' {
					k++
				}
				dateLike := k < len(s) && s[k] == s[j] // 3.2.2024, 1,2,3
				if !dateLike {
					j = k
				}
			}
			lit := s[i:j]
			if commaThousands {
				lit = strings.ReplaceAll(lit, ",", "")
			} else {
				lit = strings.Replace(lit, ",", ".", 1)
			}
			v, _ := strconv.ParseFloat(lit, 64)
			toks = append(toks, token{kind: tNum, s: s[i:j], num: v, sp: sp, pos: i, end: j})
			sp = false
			i = j
		case unicode.IsLetter(r):
			j := i + n
			for j < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[j:])
				if unicode.IsLetter(r2) {
					j += n2
					continue
				}
				// an apostrophe inside a word: don't, patient's
				if r2 == '\'' && j+1 < len(s) {
					if r3, _ := utf8.DecodeRuneInString(s[j+1:]); unicode.IsLetter(r3) {
						j += n2
						continue
					}
				}
				break
			}
			w := s[i:j]
			// letters then digits: spo2, b12, covid19 (not x2 nor units: mg5)
			if j < len(s) && s[j] >= '0' && s[j] <= '9' && !isUnitWord(w) && (len(w) >= 2 || i == 0 || s[i-1] == ' ' || s[i-1] == '(' || s[i-1] == '-') {
				k := j
				for k < len(s) && s[k] >= '0' && s[k] <= '9' {
					k++
				}
				// "hba1c", "t2dm": letters may follow the digits
				for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] >= '0' && s[k] <= '9') {
					k++
				}
				j = k
				w = s[i:j]
			}
			toks = append(toks, token{kind: tWord, s: w, sp: sp, pos: i, end: j})
			sp = false
			i = j
		default:
			toks = append(toks, token{kind: tPunct, s: s[i : i+n], sp: sp, pos: i, end: i + n})
			sp = false
			i += n
		}
	}
	return toks
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// isUnitWord reports whether w is a unit symbol that digits may follow
// only as a new number (mg5 is not a word).
func isUnitWord(w string) bool {
	switch w {
	case "x", "mg", "g", "ml", "l", "kg", "ug", "mcg", "h", "d", "q", "vk", "vko", "v", "s", "m", "t", "p", "k", "n", "c":
		return true
	}
	return false
}

// isHardBoundary reports whether the punctuation token ends a clause.
func isHardBoundary(t token, next *token) bool {
	if t.kind != tPunct {
		return false
	}
	switch t.s {
	case ";", "!", "?", "\n":
		return true
	case ".":
		// "p.o." and "3.2." keep going; a full stop is followed by space or end
		return next == nil || next.sp
	case ":":
		return next == nil || next.sp
	}
	return false
}

// prefixKey is the bucket key of a folded word: its first four bytes.
func prefixKey(w string) string {
	if len(w) > 4 {
		return w[:4]
	}
	return w
}

// commonPrefix returns the length in bytes of the common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// wordsMatch reports whether two folded words are forms of the same word
// by light prefix matching: equal; or the shorter (at least four letters)
// is nearly all a prefix of the longer, which covers English -s/-ed/-ing,
// Finnish case endings and Swedish definite forms without a stemmer.
func wordsMatch(a, b string) bool {
	if a == b {
		return true
	}
	la, lb := len(a), len(b)
	short := min(la, lb)
	if short < 4 {
		return false
	}
	cp := commonPrefix(a, b)
	need := max(min(short, 5), short-3)
	if short >= 4 && short <= 5 {
		need = short - 1 // kipu ~ kipua, yskä ~ yskää, but not pain ~ paint
		if cp < short && (short == 4) {
			need = short
		}
	}
	if cp < need {
		return false
	}
	// the longer word may add at most an ending, not a new word
	long := max(la, lb)
	return long-cp <= 7
}
