package grounding

import "strings"

// A number morpheme: number words are parsed by splitting a folded word
// into these parts, longest first, so Finnish and Swedish compounds
// ("satakaksikymmenta" = 120, "hundratjugofem" = 125) read like English
// word sequences ("one hundred twenty").
type morph struct {
	form string
	val  float64
	kind byte // 'u' additive value, 't' Finnish -toista (teen), 'k' Finnish -kymmentä (×10), 'h' hundred, 'm' thousand
}

const numberMorphs = `
u0 zero nolla noll
u1 one yksi yks yhden yhta yhdella yhteen yhdeksi
u2 two kaksi kaks kahden kahta kahdella kahteen kahdeksi parisen tva
u3 three kolme kolmen kolmea kolmella kolmeen kolmeksi kolmisen tre
u4 four nelja neljan neljaa neljalla neljaan neljaksi nelisen fyra
u5 five viisi viis viiden viitta viidella viiteen viideksi viitisen fem
u6 six kuusi kuus kuuden kuutta kuudella kuuteen kuudeksi sex
u7 seven seitseman seitsemaa seitteman seitsemaan seitsemaksi seitseman sju
u8 eight kahdeksan kahdeksaa kaheksan kahdeksaan kahdeksaksi atta
u9 nine yhdeksan yhdeksaa yheksan yhdeksaan yhdeksaksi nio
u10 ten kymmenen kymmene kymmeneen kymmeneksi kymmenella kymmenisen tio
u11 eleven elva
u12 twelve tolv
u13 thirteen tretton
u14 fourteen fjorton
u15 fifteen femton
u16 sixteen sexton
u17 seventeen sjutton
u18 eighteen arton aderton
u19 nineteen nitton
u20 twenty tjugo
u30 thirty trettio tretti
u40 forty fyrtio fortio forti
u50 fifty femtio
u60 sixty sextio
u70 seventy sjuttio
u80 eighty attio
u90 ninety nittio
t10 toista
k10 kymmenta kymmenen
h100 hundred hundra sata sataa sadan
m1000 thousand tusen tuhat tuhatta tuhannen
`

// numberParser reads number words of all three languages.
type numberParser struct {
	byFirst map[byte][]morph // by first byte, longest form first
	sv      bool             // Swedish "sex" (6) is read only in Swedish text
}

func newNumberParser() *numberParser {
	p := &numberParser{byFirst: map[byte][]morph{}}
	for _, line := range strings.Split(numberMorphs, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kind := f[0][0]
		var v float64
		for _, c := range f[0][1:] {
			v = v*10 + float64(c-'0')
		}
		for _, form := range f[1:] {
			p.byFirst[form[0]] = append(p.byFirst[form[0]], morph{form, v, kind})
		}
	}
	for k, ms := range p.byFirst {
		// longest first, so "kahdeksan" wins over "kahden"
		for i := 1; i < len(ms); i++ {
			for j := i; j > 0 && len(ms[j].form) > len(ms[j-1].form); j-- {
				ms[j], ms[j-1] = ms[j-1], ms[j]
			}
		}
		p.byFirst[k] = ms
	}
	return p
}

// numState accumulates a number over morphemes and words.
type numState struct {
	total, cur, pend float64
	last             byte // kind of the last morpheme
	any              bool
}

func (s *numState) add(m morph) bool {
	switch m.kind {
	case 'u':
		// "twenty five": a unit after a ten adds; two units in a row do not
		if s.last == 'u' && !(s.pend >= 20 && s.pend < 100 && int(s.pend)%10 == 0 && m.val < 10) {
			return false
		}
		s.pend += m.val
	case 't':
		if s.last != 'u' || s.pend >= 10 {
			return false
		}
		s.pend += 10
	case 'k':
		if s.last != 'u' || s.pend >= 10 {
			return false
		}
		s.cur += s.pend * 10
		s.pend = 0
	case 'h':
		if s.last == 'h' || s.last == 'm' && s.pend == 0 && s.cur == 0 && s.any {
			return false
		}
		n := s.pend
		if n == 0 {
			n = 1
		}
		s.cur += n * 100
		s.pend = 0
	case 'm':
		n := s.cur + s.pend
		if n == 0 {
			n = 1
		}
		s.total += n * 1000
		s.cur, s.pend = 0, 0
	}
	s.last = m.kind
	s.any = true
	return true
}

func (s *numState) value() float64 { return s.total + s.cur + s.pend }

// word parses one folded word made entirely of number morphemes into st.
func (p *numberParser) word(w string, st *numState) bool {
	if w == "" {
		return false
	}
	if w == "sex" && !p.sv {
		return false
	}
	save := *st
	i := 0
	for i < len(w) {
		ok := false
		for _, m := range p.byFirst[w[i]] {
			if strings.HasPrefix(w[i:], m.form) {
				// a form ending inside the word must leave a parsable rest;
				// the longest-first order makes this greedy, which suffices.
				if st.add(m) {
					i += len(m.form)
					ok = true
				}
				break
			}
		}
		if !ok {
			*st = save
			return false
		}
	}
	return true
}

// isNumberWord reports whether w alone is a number word, and its value.
func (p *numberParser) isNumberWord(w string) (float64, bool) {
	var st numState
	if p.word(w, &st) {
		return st.value(), true
	}
	return 0, false
}

// fractions written as words: value of "half" and "one and a half".
func halfWord(w string) bool {
	switch w {
	case "half", "puoli", "puolikas", "puolikkaan", "puolikasta", "puolet", "halv", "halva", "halft":
		return true
	}
	return false
}

func oneAndHalfWord(w string) bool {
	return w == "puolitoista" || w == "halvannan" || w == "puoltoista"
}

// isArticle reports words that mean "one" before a unit ("a week", "en
// vecka", "yhden viikon") but are not numbers by themselves.
func isArticle(w string) bool {
	switch w {
	case "a", "an", "en", "ett", "one", "yksi", "yhden", "yhta", "yks":
		return true
	}
	return false
}

// ordinal returns the day number of an ordinal word (1–31) in fi/sv/en.
func ordinal(w string) (int, bool) {
	switch w {
	case "first", "forsta", "ensimmainen", "ensimmaisena", "ensimmaista":
		return 1, true
	case "second", "andra", "toinen", "toisena", "toista":
		return 2, true
	case "third", "tredje", "kolmas", "kolmantena", "kolmatta":
		return 3, true
	case "fourth", "fjarde", "neljas", "neljantena":
		return 4, true
	case "fifth", "femte", "viides", "viidentena":
		return 5, true
	case "sixth", "sjatte", "kuudes", "kuudentena":
		return 6, true
	case "seventh", "sjunde", "seitsemas", "seitsemantena":
		return 7, true
	case "eighth", "attonde", "kahdeksas", "kahdeksantena":
		return 8, true
	case "ninth", "nionde", "yhdeksas", "yhdeksantena":
		return 9, true
	case "tenth", "tionde", "kymmenes", "kymmenentena":
		return 10, true
	case "eleventh", "elfte":
		return 11, true
	case "twelfth", "tolfte":
		return 12, true
	case "thirteenth", "trettonde":
		return 13, true
	case "fourteenth", "fjortonde":
		return 14, true
	case "fifteenth", "femtonde":
		return 15, true
	case "sixteenth", "sextonde":
		return 16, true
	case "seventeenth", "sjuttonde":
		return 17, true
	case "eighteenth", "artonde":
		return 18, true
	case "nineteenth", "nittonde":
		return 19, true
	case "twentieth", "tjugonde":
		return 20, true
	case "thirtieth", "trettionde":
		return 30, true
	}
	return 0, false
}

// unitInfo describes a unit word: its dimension and its factor to the
// dimension's base (mg, ml, hours, mm, …).
type unitInfo struct {
	dim    string
	factor float64
}

const unitTable = `
mass 1000000 kg kilo kiloa kilos kilogram kilograms kilogramma kilogrammaa kiloja
mass 1000 g gram grams gramma grammaa gramm grammes gramman
mass 1 mg milligram milligrams milligramma milligrammaa milligrammes milligrammaan milligrammalla milligrammasta
mass 0.001 ug mcg microgram micrograms mikrogramma mikrogrammaa mikrogram mikrog
mass 0.000001 ng nanogram nanogramma
volume 1000 l liter liters litre litres litra litraa litran
volume 100 dl desilitra desilitraa deciliter decilitre
volume 10 cl
volume 1 ml milliliter milliliters millilitre millilitres millilitra millilitraa
volume 0.001 ul mikrolitra
time 0.000277777778 s sec secs second seconds sekunti sekuntia sekund sekunder
time 0.0166666667 min mins minute minutes minuutti minuuttia minuutin minuuttia minuutiksi minut minuter minuten
time 1 h hr hrs hour hours tunti tuntia tunnin tunnissa tunniksi timme timmar timmen tim
time 24 d day days paiva paivaa paivan paivassa paivaksi paivia vrk vuorokausi vuorokautta vuorokauden dag dagar dagen dygn dygnet
time 168 wk wks week weeks viikko viikkoa viikon viikossa viikoksi viikkoja vko vk vecka veckor veckan veckorna
time 730 month months mo kuukausi kuukautta kuukauden kuukaudeksi kuukausia kk manad manader manaden man
time 8760 year years yr yrs vuosi vuotta vuoden vuodeksi vuosia ar aren aret
age 1 vuotias vuotiaana vuotiaalla vuotiaan aring aringen arig year-old years-old
pressure 1 mmhg
rate 1 bpm lyontia
temp 1 astetta aste asteen grader grad degrees degree
percent 1 % prosenttia prosentti prosenttiin procent percent
units 1 tablet tablets tab tabs tabl tbl pill pills tabletti tablettia tabletin tabletteja tablett tabletter tabletten capsule capsules caps kapseli kapselia kapselin kapseleita kapsel kapslar puff puffs vetoa veto vedon inhalaatio inhalaatiota inhalation inhalations sug drop drops tippa tippaa tippoja droppe droppar annos annosta dose doses dos doser
iu 1 iu ie ky units unit yksikkoa yksikko yksikon enheter enhet
length 10 cm senttimetri senttia sentti centimeter centimeters centimetre centimetres
length 25.4 inch inches tuumaa tuuma tum
length 1 mm millimetri millimetre millimeter millimeters
length 1000 m metri metria meter meters metre metres
mmol 1 mmol millimoolia
`

func newUnits() map[string]unitInfo {
	u := map[string]unitInfo{}
	for _, line := range strings.Split(unitTable, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		var fac float64
		// strconv-free: factors are plain decimals
		fac = parseDecimal(f[1])
		for _, w := range f[2:] {
			if _, dup := u[w]; !dup {
				u[w] = unitInfo{f[0], fac}
			}
		}
	}
	return u
}

func parseDecimal(s string) float64 {
	var v, scale float64 = 0, 0
	for _, c := range s {
		if c == '.' {
			scale = 1
			continue
		}
		v = v*10 + float64(c-'0')
		if scale > 0 {
			scale *= 10
		}
	}
	if scale > 0 {
		v /= scale
	}
	return v
}
