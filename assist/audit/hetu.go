package audit

import "strings"

// hetuChecks maps (DDMMYYNNN mod 31) to the control character.
const hetuChecks = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// hetuLen is the length of a personal identity code: DDMMYY C NNN Q.
const hetuLen = 11

// ValidHETU reports whether s is exactly one valid Finnish personal
// identity code (henkilötunnus): a real calendar date DDMMYY, a century
// sign ('+' for the 1800s; '-', 'Y', 'X', 'W', 'V', 'U' for the 1900s;
// 'A'–'F' for the 2000s, as allowed since 2023), an individual number
// 002–999 (900–999 are temporary codes) and the control character
// computed modulo 31. Letters may be in either case.
func ValidHETU(s string) bool {
	return len(s) == hetuLen && hetuAt(s, 0)
}

// FindHETU returns the valid personal identity codes in text, in order of
// appearance, upper-cased. A code counts only when it is not glued to a
// preceding digit or a following letter or digit. Callers pseudonymise
// ([Pseudonymise]) or redact ([RedactHETU]) what it finds; it never logs.
func FindHETU(text string) []string {
	var out []string
	for _, loc := range FindHETUIndex(text) {
		out = append(out, strings.ToUpper(text[loc[0]:loc[1]]))
	}
	return out
}

// FindHETUIndex returns the byte ranges [start, end) of the valid personal
// identity codes in text, with the same rules as FindHETU.
func FindHETUIndex(text string) [][2]int {
	var out [][2]int
	for i := 0; i+hetuLen <= len(text); i++ {
		if !isDigit(text[i]) {
			continue
		}
		if i > 0 && isDigit(text[i-1]) {
			continue
		}
		if i+hetuLen < len(text) && isAlnum(text[i+hetuLen]) {
			continue
		}
		if hetuAt(text, i) {
			out = append(out, [2]int{i, i + hetuLen})
			i += hetuLen - 1
		}
	}
	return out
}

// RedactHETU replaces every personal identity code in text with
// repl(code), where code is upper-cased. A nil repl writes "[HETU]". It
// repeats until none is left (a replacement can unglue a neighbour).
func RedactHETU(text string, repl func(hetu string) string) string {
	for i := 0; ; i++ {
		if i == 4 {
			repl = nil // a replacement keeps producing codes: use the fixed one
		}
		out := redactOnce(text, repl)
		if out == text {
			return out
		}
		text = out
	}
}

func redactOnce(text string, repl func(hetu string) string) string {
	locs := FindHETUIndex(text)
	if len(locs) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, loc := range locs {
		b.WriteString(text[last:loc[0]])
		if repl == nil {
			b.WriteString("[HETU]")
		} else {
			b.WriteString(repl(strings.ToUpper(text[loc[0]:loc[1]])))
		}
		last = loc[1]
	}
	b.WriteString(text[last:])
	return b.String()
}

// hetuAt checks the 11 bytes of s starting at i.
func hetuAt(s string, i int) bool {
	c := s[i : i+hetuLen]
	n := 0
	for j := 0; j < 6; j++ {
		if !isDigit(c[j]) {
			return false
		}
		n = n*10 + int(c[j]-'0')
	}
	for j := 7; j < 10; j++ {
		if !isDigit(c[j]) {
			return false
		}
		n = n*10 + int(c[j]-'0')
	}
	var century int
	switch upper(c[6]) {
	case '+':
		century = 1800
	case '-', 'Y', 'X', 'W', 'V', 'U':
		century = 1900
	case 'A', 'B', 'C', 'D', 'E', 'F':
		century = 2000
	default:
		return false
	}
	day := int(c[0]-'0')*10 + int(c[1]-'0')
	month := int(c[2]-'0')*10 + int(c[3]-'0')
	year := century + int(c[4]-'0')*10 + int(c[5]-'0')
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return false
	}
	individual := int(c[7]-'0')*100 + int(c[8]-'0')*10 + int(c[9]-'0')
	if individual < 2 {
		return false
	}
	return upper(c[10]) == hetuChecks[n%31]
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
