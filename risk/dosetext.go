package risk

import (
	"math/bits"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reads dosing instructions written in Finnish, Swedish or
// English ("1 g x 2", "500 mg kahdesti päivässä", "1 tabl. 3 ggr/dag",
// "1+0+1", "tarvittaessa enintään 3 g/vrk") into a per-administration
// amount, a number of administrations per day and an as-needed marker.
// It is a small hand-written tokenizer and scanner (no regular
// expressions: a 15-drug list is read in microseconds). Anything it does
// not understand is reported as a problem; nothing is guessed.

// tokKind is the kind of a dose-text token.
type tokKind uint8

const (
	tokNum  tokKind = iota + 1
	tokWord         // letters, folded to ASCII (ä→a, ö→o, å→a, µ→u)
	tokSym          // one of x / + - : ( )
)

type token struct {
	kind tokKind
	num  float64
	word string
	sym  byte
}

// tokenizeDose splits text into numbers, words and symbols. Decimal
// commas are accepted ("2,5"), "½" is 0.5, and an "x" or "×" between
// numbers ("1x3") is a symbol.
func tokenizeDose(text string) []token {
	toks := make([]token, 0, 16)
	low := strings.ToLower(text)
	for i := 0; i < len(low); {
		r, size := utf8.DecodeRuneInString(low[i:])
		switch {
		case r >= '0' && r <= '9':
			j := i
			for j < len(low) && low[j] >= '0' && low[j] <= '9' {
				j++
			}
			if j+1 < len(low) && (low[j] == ',' || low[j] == '.') && low[j+1] >= '0' && low[j+1] <= '9' {
				j++
				for j < len(low) && low[j] >= '0' && low[j] <= '9' {
					j++
				}
			}
			num := low[i:j]
			if k := strings.IndexByte(num, ','); k >= 0 {
				num = num[:k] + "." + num[k+1:]
			}
			if v, err := strconv.ParseFloat(num, 64); err == nil {
				toks = append(toks, token{kind: tokNum, num: v})
			}
			i = j
		case r == '½':
			toks = append(toks, token{kind: tokNum, num: 0.5})
			i += size
		case r == '×' || r == '*':
			toks = append(toks, token{kind: tokSym, sym: 'x'})
			i += size
		case r == '/' || r == '+' || r == '-' || r == '–' || r == '—' || r == ':' || r == '(' || r == ')':
			s := byte(r)
			if r == '–' || r == '—' {
				s = '-'
			}
			toks = append(toks, token{kind: tokSym, sym: s})
			i += size
		case unicode.IsLetter(r) || r == 'µ' || r == 'μ':
			// A word: ASCII words are slices of the lowered text (no copy);
			// others are folded to ASCII (ä→a, ö→o, å→a, µ→u).
			j, ascii := i, true
			for j < len(low) {
				rj, sj := utf8.DecodeRuneInString(low[j:])
				if !(unicode.IsLetter(rj) || rj == 'µ' || rj == 'μ') {
					break
				}
				if rj >= utf8.RuneSelf {
					ascii = false
				}
				j += sj
			}
			w := low[i:j]
			if !ascii {
				var b strings.Builder
				for _, rw := range w {
					b.WriteRune(foldLetter(rw))
				}
				w = b.String()
			}
			if w == "x" {
				toks = append(toks, token{kind: tokSym, sym: 'x'})
			} else {
				toks = append(toks, token{kind: tokWord, word: w})
			}
			i = j
		default:
			i += size // spaces, dots, commas and other punctuation separate tokens
		}
	}
	return toks
}

func foldLetter(r rune) rune {
	switch r {
	case 'ä', 'å', 'á', 'à', 'â':
		return 'a'
	case 'ö', 'ó', 'ò', 'ô', 'ø':
		return 'o'
	case 'é', 'è', 'ê', 'ë':
		return 'e'
	case 'ü', 'ú':
		return 'u'
	case 'µ', 'μ':
		return 'u'
	}
	return r
}

// unitKind classifies a dose unit.
type unitKind uint8

const (
	unitMass unitKind = iota + 1 // converted to mg
	unitForm                     // tablets, capsules: needs the product strength
	unitIU                       // international units: kept as they are
)

type unitInfo struct {
	kind unitKind
	mg   float64 // mg per unit, for mass units
}

// doseUnits maps folded unit words (fi/sv/en) to their meaning.
var doseUnits = map[string]unitInfo{
	"mg": {unitMass, 1}, "milligramma": {unitMass, 1}, "milligrammaa": {unitMass, 1}, "milligram": {unitMass, 1},
	"milligrams": {unitMass, 1},
	"g":          {unitMass, 1000}, "gramma": {unitMass, 1000}, "grammaa": {unitMass, 1000}, "gram": {unitMass, 1000},
	"grams": {unitMass, 1000},
	"ug":    {unitMass, 0.001}, "mcg": {unitMass, 0.001}, "mikrog": {unitMass, 0.001}, "mikrogrammaa": {unitMass, 0.001},
	"mikrogram": {unitMass, 0.001}, "microgram": {unitMass, 0.001}, "micrograms": {unitMass, 0.001},
	"tabl": {kind: unitForm}, "tbl": {kind: unitForm}, "tab": {kind: unitForm}, "tabs": {kind: unitForm},
	"tabletti": {kind: unitForm}, "tablettia": {kind: unitForm}, "tabletit": {kind: unitForm}, "tabletteja": {kind: unitForm},
	"tablett": {kind: unitForm}, "tabletter": {kind: unitForm}, "tabletten": {kind: unitForm},
	"tablet": {kind: unitForm}, "tablets": {kind: unitForm},
	"depottabl": {kind: unitForm}, "depottabletti": {kind: unitForm}, "depottablettia": {kind: unitForm},
	"kaps": {kind: unitForm}, "kapseli": {kind: unitForm}, "kapselia": {kind: unitForm}, "kapselit": {kind: unitForm},
	"kapsel": {kind: unitForm}, "kapseln": {kind: unitForm}, "kapslar": {kind: unitForm},
	"caps": {kind: unitForm}, "capsule": {kind: unitForm}, "capsules": {kind: unitForm},
	"kpl": {kind: unitForm}, "st": {kind: unitForm},
	"iu": {kind: unitIU}, "ky": {kind: unitIU}, "ie": {kind: unitIU}, "units": {kind: unitIU}, "yksikkoa": {kind: unitIU},
	"enheter": {kind: unitIU},
}

// Words and phrases of the instructions, folded to ASCII.
var (
	dayWords = map[string]bool{
		"vrk": true, "d": true, "dag": true, "dygn": true, "day": true, "pv": true, "paiva": true, "vuorokausi": true,
		"vuorokaudessa": true, "paivassa": true, "daily": true, "dagligen": true, "paivittain": true, "dygnet": true,
		"dagen": true,
	}
	weekWords = map[string]bool{
		"vko": true, "viikko": true, "viikossa": true, "vecka": true, "veckan": true, "week": true, "wk": true,
		"weekly": true, "viikoittain": true, "veckovis": true,
	}
	timesWords = map[string]bool{
		"kertaa": true, "krt": true, "kerta": true, "ggr": true, "gang": true, "ganger": true, "times": true, "time": true,
	}
	numberWords = map[string]float64{
		"yksi": 1, "yhden": 1, "kaksi": 2, "kolme": 3, "nelja": 4, "viisi": 5, "kuusi": 6,
		"en": 1, "ett": 1, "tva": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6,
		"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	}
	// adverbs that carry their own count ("kahdesti", "twice").
	countAdverbs = map[string]float64{
		"kerran": 1, "kahdesti": 2, "kolmesti": 3, "neljasti": 4, "once": 1, "twice": 2, "thrice": 3,
	}
	// Latin and English abbreviations of daily frequencies.
	freqAbbrev = map[string]float64{
		"od": 1, "qd": 1, "bid": 2, "bd": 2, "tid": 3, "tds": 3, "qid": 4, "qds": 4, "nocte": 1, "mane": 1, "hs": 1,
	}
	// time-of-day words: each names one administration slot.
	timeOfDay = map[string]int{
		"aamulla": 1, "aamuisin": 1, "aamuin": 1, "aamu": 1, "morgon": 1, "morgonen": 1, "morning": 1, "mornings": 1,
		"paivalla": 2, "paivisin": 2, "lounaalla": 2, "middag": 2, "midday": 2, "noon": 2, "lunch": 2,
		"illalla": 3, "iltaisin": 3, "illoin": 3, "ilta": 3, "kvall": 3, "kvallen": 3, "evening": 3, "evenings": 3,
		"yolla": 4, "yoksi": 4, "natten": 4, "night": 4, "bedtime": 4, "nukkumaan": 4, "yo": 4,
	}
	maxWords = map[string]bool{
		"max": true, "maks": true, "maksimi": true, "maksimissaan": true, "enintaan": true, "korkeintaan": true,
		"hogst": true, "maximum": true, "maximalt": true,
	}
	rangeWords = map[string]bool{"tai": true, "eller": true, "or": true, "to": true}
)

// dottedAbbrev are frequency abbreviations written with dots ("b.i.d.").
var dottedAbbrev = []struct {
	words []string
	n     float64
}{
	{[]string{"b", "i", "d"}, 2}, {[]string{"t", "i", "d"}, 3}, {[]string{"q", "i", "d"}, 4},
	{[]string{"t", "d", "s"}, 3}, {[]string{"q", "d", "s"}, 4}, {[]string{"o", "d"}, 1},
	{[]string{"q", "d"}, 1}, {[]string{"b", "d"}, 2},
}

// prnPhrases mark as-needed use (folded words in sequence).
var prnPhrases = [][]string{
	{"tarvittaessa"}, {"tarv"}, {"tarpeen", "mukaan"}, {"prn"}, {"p", "r", "n"},
	{"vid", "behov"}, {"vb"}, {"v", "b"}, {"as", "needed"}, {"when", "needed"}, {"if", "needed"},
	{"as", "required"}, {"when", "required"}, {"if", "required"},
}

// textDose is what the text says, before strengths are applied.
type textDose struct {
	amount, amountHi float64 // per administration (in unit)
	unit             unitInfo
	unitWord         string
	freq, freqHi     float64 // administrations per day; 0 = not stated
	// maxDaily is a stated daily maximum ("enintään 3 g/vrk"), in maxUnit.
	maxDaily    float64
	maxUnit     unitInfo
	maxUnitWord string
	asNeeded    bool
	problem     string
}

// amountClause is one "number [unit] [period]" found in the text.
type amountClause struct {
	at, end  int
	lo, hi   float64
	unit     unitInfo
	unitWord string
	per      float64 // 1: a daily total, 7: a weekly total, 0: per administration
	max      bool    // preceded by "enintään", "max", "up to" ...
}

// parseDoseText reads one instruction. problem is set when the amount or
// the frequency cannot be read; as-needed markers are read regardless.
func parseDoseText(text string) textDose {
	toks := tokenizeDose(text)
	var d textDose
	d.asNeeded = hasPRN(toks)
	if len(toks) == 0 {
		d.problem = "empty dosing text"
		return d
	}
	// "1+0+1" or "1-0-1": amounts per time of day.
	if n, sum, end, ok := slots(toks); ok {
		d.amount, d.amountHi, d.freq, d.freqHi = sum/float64(n), sum/float64(n), float64(n), float64(n)
		d.unit = unitInfo{kind: unitForm}
		if end < len(toks) && toks[end].kind == tokWord {
			if u, ok := doseUnits[toks[end].word]; ok {
				d.unit, d.unitWord = u, toks[end].word
			}
		}
		return d
	}
	var clauses []amountClause
	for i := 0; i < len(toks); i++ {
		lo, hi, j, ok := numRange(toks, i)
		if !ok && toks[i].kind == tokWord && i+1 < len(toks) && toks[i+1].kind == tokWord {
			// "two tablets", "kaksi tablettia"
			if v, isNum := numberWords[toks[i].word]; isNum {
				if _, isUnit := doseUnits[toks[i+1].word]; isUnit {
					lo, hi, j, ok = v, v, i+1, true
				}
			}
		}
		if !ok {
			continue
		}
		if j < len(toks) && toks[j].kind == tokWord {
			if u, ok := doseUnits[toks[j].word]; ok {
				c := amountClause{at: i, lo: lo, hi: hi, unit: u, unitWord: toks[j].word, end: j + 1}
				c.max = i > 0 && toks[i-1].kind == tokWord && maxWords[toks[i-1].word] ||
					i > 1 && (wordsAt(toks, i-2, "up", "to") || wordsAt(toks, i-2, "at", "most"))
				if per, n := periodAfter(toks, c.end); n > 0 {
					c.per, c.end = per, c.end+n
				}
				clauses = append(clauses, c)
				i = c.end - 1
				continue
			}
		}
		// "1 x 3": a unitless count of tablets before an "x" (not "2 x 500 mg").
		if len(clauses) == 0 && isSym(toks, j, 'x') && !massAt(toks, j+1) {
			clauses = append(clauses, amountClause{at: i, end: j, lo: lo, hi: hi, unit: unitInfo{kind: unitForm}})
			break
		}
		i = j - 1
	}
	var main []amountClause
	for _, c := range clauses {
		if c.max && c.per == 1 {
			if d.maxDaily == 0 {
				d.maxDaily, d.maxUnit, d.maxUnitWord = c.hi, c.unit, c.unitWord
			}
			continue
		}
		main = append(main, c)
	}
	if len(main) == 0 {
		if d.maxDaily == 0 {
			d.problem = "no dose amount found"
		}
		if f, fh, ok := frequency(toks, 0); ok {
			d.freq, d.freqHi = f, fh
		}
		return d
	}
	// "2 tabl aamulla ja 1 tabl illalla": amounts per time of day, summed.
	if len(main) > 1 {
		sum, same := 0.0, true
		for _, c := range main {
			if c.per != 0 || c.unitWord != main[0].unitWord || c.lo != c.hi ||
				c.end >= len(toks) || toks[c.end].kind != tokWord || timeOfDay[toks[c.end].word] == 0 {
				same = false
				break
			}
			sum += c.lo
		}
		if !same {
			d.problem = "several different amounts; the daily dose is ambiguous"
			return d
		}
		n := float64(len(main))
		c := main[0]
		d.amount, d.amountHi, d.unit, d.unitWord, d.freq, d.freqHi = sum/n, sum/n, c.unit, c.unitWord, n, n
		return d
	}
	c := main[0]
	d.amount, d.amountHi, d.unit, d.unitWord = c.lo, c.hi, c.unit, c.unitWord
	if c.per > 0 {
		// A daily or weekly total ("1000 mg/vrk", "15 mg viikossa").
		d.freq, d.freqHi = 1/c.per, 1/c.per
		return d
	}
	if f, fh, ok := frequency(toks, c.end); ok {
		d.freq, d.freqHi = f, fh
		if fh > 24 {
			d.freq, d.freqHi, d.problem = 0, 0, "implausible number of doses per day"
		}
		return d
	}
	if f, fh, ok := frequency(toks[:c.at], 0); ok {
		d.freq, d.freqHi = f, fh
		return d
	}
	switch {
	case d.maxDaily > 0:
	case d.asNeeded:
		d.problem = "as-needed dose without a number of doses per day or a daily maximum"
	default:
		d.problem = "no frequency found"
	}
	return d
}

// massAt reports a number followed by a mass unit at i.
func massAt(toks []token, i int) bool {
	if i+1 >= len(toks) || toks[i].kind != tokNum || toks[i+1].kind != tokWord {
		return false
	}
	u, ok := doseUnits[toks[i+1].word]
	return ok && u.kind == unitMass
}

// hasPRN reports an as-needed marker anywhere in the tokens.
func hasPRN(toks []token) bool {
	for i := range toks {
		if toks[i].kind != tokWord {
			continue
		}
		for _, p := range prnPhrases {
			if wordsAt(toks, i, p...) {
				return true
			}
		}
	}
	return false
}

func wordsAt(toks []token, i int, words ...string) bool {
	if i+len(words) > len(toks) {
		return false
	}
	for k, w := range words {
		if toks[i+k].kind != tokWord || toks[i+k].word != w {
			return false
		}
	}
	return true
}

func isSym(toks []token, i int, s byte) bool {
	return i < len(toks) && toks[i].kind == tokSym && toks[i].sym == s
}

// numRange reads "1", "1-2", "1 tai 2" or "1/2" (a half) at i; j is the
// index after it.
func numRange(toks []token, i int) (lo, hi float64, j int, ok bool) {
	if i >= len(toks) || toks[i].kind != tokNum {
		return 0, 0, i, false
	}
	lo, hi, j = toks[i].num, toks[i].num, i+1
	switch {
	case isSym(toks, j, '/') && j+1 < len(toks) && toks[j+1].kind == tokNum && lo == 1 && (toks[j+1].num == 2 || toks[j+1].num == 4):
		lo = lo / toks[j+1].num
		hi, j = lo, j+2
	case (isSym(toks, j, '-') || j < len(toks) && toks[j].kind == tokWord && rangeWords[toks[j].word]) &&
		j+1 < len(toks) && toks[j+1].kind == tokNum && toks[j+1].num > lo:
		hi, j = toks[j+1].num, j+2
	}
	return lo, hi, j, true
}

// slots reads "1+0+1" (any count) or "1-0-1" (three or four parts) at the
// start: the number of non-zero slots and the sum of the amounts.
func slots(toks []token) (n int, sum float64, end int, ok bool) {
	if len(toks) < 3 || toks[0].kind != tokNum {
		return 0, 0, 0, false
	}
	sep := byte(0)
	if isSym(toks, 1, '+') {
		sep = '+'
	} else if isSym(toks, 1, '-') {
		sep = '-'
	} else {
		return 0, 0, 0, false
	}
	parts := []float64{toks[0].num}
	i := 1
	for isSym(toks, i, sep) && i+1 < len(toks) && toks[i+1].kind == tokNum {
		parts = append(parts, toks[i+1].num)
		i += 2
	}
	if len(parts) < 2 || sep == '-' && len(parts) < 3 || len(parts) > 6 {
		return 0, 0, 0, false
	}
	for _, p := range parts {
		if p > 0 {
			n++
			sum += p
		}
	}
	if n == 0 {
		return 0, 0, 0, false
	}
	return n, sum, i, true
}

// periodAfter recognises "/vrk", "/d", "/dag", "per day", "a day",
// "päivässä", "vuorokaudessa", "daily", "dagligen" (per = 1 day) and their
// weekly forms (per = 7) at i; n is the number of tokens used.
func periodAfter(toks []token, i int) (per float64, n int) {
	if i >= len(toks) {
		return 0, 0
	}
	if isSym(toks, i, '/') && i+1 < len(toks) {
		t := toks[i+1]
		if t.kind == tokWord && dayWords[t.word] {
			return 1, 2
		}
		if t.kind == tokWord && weekWords[t.word] {
			return 7, 2
		}
		if t.kind == tokNum && t.num == 24 && i+2 < len(toks) && toks[i+2].kind == tokWord && toks[i+2].word == "h" {
			return 1, 3
		}
		return 0, 0
	}
	t := toks[i]
	if t.kind != tokWord {
		return 0, 0
	}
	switch {
	case t.word == "vuorokaudessa" || t.word == "paivassa" || t.word == "daily" || t.word == "dagligen" || t.word == "paivittain":
		return 1, 1
	case t.word == "viikossa" || t.word == "weekly" || t.word == "viikoittain":
		return 7, 1
	}
	if i+1 < len(toks) && toks[i+1].kind == tokWord {
		next := toks[i+1].word
		switch t.word {
		case "per", "a", "om", "i", "each", "every":
			if dayWords[next] {
				return 1, 2
			}
			if weekWords[next] {
				return 7, 2
			}
		}
	}
	return 0, 0
}

// frequency finds the number of administrations per day from i on.
func frequency(toks []token, from int) (f, fhi float64, ok bool) {
	var tod uint8 // time-of-day slots seen (bit per slot)
	for i := from; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tokSym && t.sym == 'x':
			// "x 2", "x 1-2", "x2/vrk", "x 1 viikossa", "x 1 vko"
			if lo, hi, j, ok := numRange(toks, i+1); ok {
				per, _ := periodAfter(toks, j)
				if per == 0 && j < len(toks) && toks[j].kind == tokWord && weekWords[toks[j].word] {
					per = 7
				}
				if per == 0 {
					per = 1
				}
				return lo / per, hi / per, true
			}
		case t.kind == tokNum:
			// "3 ggr/dag", "2 kertaa päivässä", "3 times a day", "8 tunnin välein"
			lo, hi, j, _ := numRange(toks, i)
			if isSym(toks, j, 'x') {
				// "1-3 x/vrk", "2 x viikossa", "1-2 x vrk"
				if per, n := periodAfter(toks, j+1); n > 0 {
					return lo / per, hi / per, true
				}
				if j+1 < len(toks) && toks[j+1].kind == tokWord && (dayWords[toks[j+1].word] || weekWords[toks[j+1].word]) {
					per := 1.0
					if weekWords[toks[j+1].word] {
						per = 7
					}
					return lo / per, hi / per, true
				}
			}
			if j < len(toks) && toks[j].kind == tokWord && timesWords[toks[j].word] {
				per, _ := periodAfter(toks, j+1)
				if per == 0 {
					per = 1
				}
				return lo / per, hi / per, true
			}
			if h, ok := hoursInterval(toks, j); ok && lo > 0 {
				return h / hi, h / lo, true
			}
		case t.kind == tokWord:
			// "joka toinen päivä", "varannan dag", "every other day"
			if wordsAt(toks, i, "joka", "toinen") || wordsAt(toks, i, "varannan") || wordsAt(toks, i, "every", "other", "day") ||
				wordsAt(toks, i, "joka", "toisena") {
				return 0.5, 0.5, true
			}
			if v, ok := numberWords[t.word]; ok && i+1 < len(toks) && toks[i+1].kind == tokWord && timesWords[toks[i+1].word] {
				per, _ := periodAfter(toks, i+2)
				if per == 0 {
					per = 1
				}
				return v / per, v / per, true
			}
			if v, ok := countAdverbs[t.word]; ok {
				per, _ := periodAfter(toks, i+1)
				if per == 0 {
					per = 1
				}
				return v / per, v / per, true
			}
			if v, ok := freqAbbrev[t.word]; ok {
				return v, v, true
			}
			for _, p := range dottedAbbrev {
				if wordsAt(toks, i, p.words...) {
					return p.n, p.n, true
				}
			}
			// "every 8 hours", "q8h", "joka 8. tunti", "var 8:e timme"
			if t.word == "every" || t.word == "q" || t.word == "joka" || t.word == "var" {
				if i+1 < len(toks) && toks[i+1].kind == tokNum && toks[i+1].num > 0 {
					if _, ok := hoursInterval(toks, i+2); ok {
						return 24 / toks[i+1].num, 24 / toks[i+1].num, true
					}
				}
			}
			if per, n := periodAfter(toks, i); n > 0 && (t.word == "daily" || t.word == "dagligen" || t.word == "paivittain" || t.word == "weekly" || t.word == "viikoittain") {
				return 1 / per, 1 / per, true
			}
			if s, ok := timeOfDay[t.word]; ok {
				tod |= 1 << s
			}
		}
	}
	if tod != 0 {
		n := float64(bits.OnesCount8(tod))
		return n, n, true
	}
	return 0, 0, false
}

// hoursInterval recognises "h", "hours", "tunnin välein", "tunti", "timme"
// (an interval in hours) at i and returns 24 (hours per day).
func hoursInterval(toks []token, i int) (float64, bool) {
	// "var 8:e timme": skip ":" and "e"
	for i < len(toks) && (isSym(toks, i, ':') || toks[i].kind == tokWord && toks[i].word == "e") {
		i++
	}
	if i >= len(toks) || toks[i].kind != tokWord {
		return 0, false
	}
	switch toks[i].word {
	case "h", "hours", "hour", "hourly", "hrs", "tunti", "timme", "timmar":
		return 24, true
	case "tunnin":
		return 24, wordsAt(toks, i+1, "valein") || wordsAt(toks, i+1, "valin")
	}
	return 0, false
}
