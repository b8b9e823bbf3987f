package risk

import "strings"

// atcFirstLetters are the 14 anatomical main groups of the WHO ATC system.
const atcFirstLetters = "ABCDGHJLMNPRSV"

// ValidATC reports whether code is a well-formed ATC code of any level:
// A, A10, A10B, A10BA or A10BA02 (level 1, 2, 3, 4 or 5).
func ValidATC(code string) bool {
	n := len(code)
	if n != 1 && n != 3 && n != 4 && n != 5 && n != 7 {
		return false
	}
	if !strings.ContainsRune(atcFirstLetters, rune(code[0])) {
		return false
	}
	for i := 1; i < n; i++ {
		c := code[i]
		switch i {
		case 1, 2, 5, 6:
			if c < '0' || c > '9' {
				return false
			}
		case 3, 4:
			if c < 'A' || c > 'Z' {
				return false
			}
		}
	}
	return true
}

// ValidSubstanceATC reports whether code is a well-formed level-5 ATC code
// (a chemical substance, 7 characters), the level a prescription names.
func ValidSubstanceATC(code string) bool { return len(code) == 7 && ValidATC(code) }

// ValidProductATC reports whether code may name a medicinal product on a
// medication list: a level-5 substance code, or a level-4 code (a few
// combination products, e.g. calcium with vitamin D A12AX, are
// classified only at level 4).
func ValidProductATC(code string) bool { return (len(code) == 5 || len(code) == 7) && ValidATC(code) }

// NormalizeATC upper-cases and trims an ATC code; it does not validate.
func NormalizeATC(code string) string {
	return strings.ToUpper(strings.Join(strings.Fields(code), ""))
}

// atcLevel4 returns the level-4 group (first five characters) of a level-5
// code, or "" for shorter codes.
func atcLevel4(code string) string {
	if len(code) < 7 {
		return ""
	}
	return code[:5]
}

// NormalizeICD10 turns an ICD-10 code into the dotless upper-case form the
// engine compares by prefix ("i50.9" → "I509"). Finnish combination codes
// such as "G30.1+F00.1*" are split into their parts. It returns nil when
// no part is a well-formed ICD-10 code.
func NormalizeICD10(code string) []string {
	parts := strings.FieldsFunc(strings.ToUpper(code), func(r rune) bool {
		return r == '+' || r == '*' || r == '&' || r == '#' || r == ' ' || r == ','
	})
	var out []string
	for _, p := range parts {
		p = strings.ReplaceAll(p, ".", "")
		if validICD10(p) {
			out = append(out, p)
		}
	}
	return out
}

// validICD10 checks a dotless code: a letter, two digits and up to four
// more letters or digits.
func validICD10(p string) bool {
	if len(p) < 3 || len(p) > 7 {
		return false
	}
	if p[0] < 'A' || p[0] > 'Z' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' {
		return false
	}
	for i := 3; i < len(p); i++ {
		c := p[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
