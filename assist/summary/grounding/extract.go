package grounding

import (
	"math"
	"strconv"
	"strings"
)

// pol is the polarity of a mention: asserted, negated, or unknown (asked
// in a question that got no clear answer).
type pol int8

const (
	polPos pol = iota
	polNeg
	polUnknown
)

type cword struct {
	text     string // as written
	w        string
	tok      int
	concepts []uint16
	pol      pol
	kind     byte // strongest concept kind; 'M' a drug-shaped word; 0 unknown
}

type quantity struct {
	dim   string
	val   float64 // in the dimension's base unit
	raw   float64 // the number as written
	tok   int
	text  string
	daily bool // a derived daily total
}

type numItem struct {
	v    float64
	tok  int
	text string
	word bool // written as a word ("one", "yksi"), not digits
}

type freqItem struct {
	rate float64 // administrations per day; -1 as needed
	tok  int
	text string
	// weak: a time of day ("in the morning", "iltaisin") read as once a
	// day in the sources; in a draft it is checked only as a slot.
	weak bool
	slot byte // 'm' morning, 'e' evening or night, 0 none
	word bool // a bare "daily", "päivittäin", "dagligen"
}

type dateItem struct {
	key  string
	tok  int
	text string
}

type sideItem struct {
	side byte   // 'L', 'R', 'B' (both)
	body uint16 // concept of the body site, or noBody
	tok  int
	text string
	// fwords are the finding words said in the same part of the clause
	// ("left knee swollen"), to tell which side a finding belongs to
	fwords []int
}

const noBody = math.MaxUint16

type medItem struct {
	atc  string // catalogue code, or "" for a drug-shaped word
	key  string // drugKey of the word for uncatalogued names
	tok  int
	pol  pol
	text string
}

// link ties a drug or a finding to a change said of it in the same part
// of a clause ("stop the lisinopril", "pain getting worse").
type link struct {
	subj string // "m:" + drug key, or "c:" + concept id
	dir  string // start, stop, increase, decrease, worse, better
	tok  int
	text string
}

type allergyItem struct {
	// implied: read from a drug and a reaction, not an allergy word; it
	// supports a draft's allergy but is not a claim of its own
	implied bool
	pol     pol
	meds    []string // ATC codes or drug keys
	words   []string // other named allergens (folded)
	tok     int
	text    string
}

// analysis is what a text states, in comparable form.
type analysis struct {
	words     []cword
	nums      []numItem
	qtys      []quantity
	freqs     []freqItem
	dates     []dateItem
	sides     []sideItem
	meds      []medItem
	allergies []allergyItem
	links     []link
	derived   []quantity // amounts implied by counts, strengths and frequencies (sources only)
	// qStart is the first token of a trailing question (-1: none); qNeg
	// marks a negated question ("no fever?").
	qStart int
	qNeg   bool
	// answer is the text's opening yes/no when it answers a question.
	answer pol
	hasAns bool
	ntoks  int
}

// doc holds a text's tokens for the passes of analyze.
type doc struct {
	lang   string
	orig   string
	offs   []int // folded byte offset → original byte offset
	toks   []token
	used   []bool
	neg    []bool // inside a negation's scope
	past   []bool // after a history cue ("former", "före detta")
	spoken bool   // a turn of a conversation (has a speaker)
	clause []int  // clause number of each token
}

func (d *doc) text(a, b int) string {
	if a < 0 || b >= len(d.toks) || a > b {
		return ""
	}
	s, e := d.offs[d.toks[a].pos], d.offs[d.toks[b].end]
	return strings.TrimSpace(d.orig[s:e])
}

func (d *doc) word(i int) string {
	if i < 0 || i >= len(d.toks) || d.toks[i].kind != tWord {
		return ""
	}
	return d.toks[i].s
}

func (d *doc) isPunct(i int, s string) bool {
	return i >= 0 && i < len(d.toks) && d.toks[i].kind == tPunct && d.toks[i].s == s
}

// foldMap folds s (see fold) and maps each folded byte offset back to s.
func foldMap(s string) (string, []int) {
	var b strings.Builder
	b.Grow(len(s))
	offs := make([]int, 0, len(s)+1)
	for i, r := range s {
		f := foldRune(r)
		n := b.Len()
		b.WriteRune(f)
		for k := n; k < b.Len(); k++ {
			offs = append(offs, i)
		}
	}
	offs = append(offs, len(s))
	return b.String(), offs
}

// joinDotted merges single letters written with full stops ("p.o.",
// "b.i.d.", "v.b.", "u.a.") into one word token.
func joinDotted(toks []token) []token {
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tWord && len(t.s) <= 2 && i+2 < len(toks) && toks[i+1].kind == tPunct && toks[i+1].s == "." && !toks[i+1].sp &&
			toks[i+2].kind == tWord && len(toks[i+2].s) <= 2 && !toks[i+2].sp {
			var b strings.Builder
			b.WriteString(t.s)
			end := t.end
			j := i + 1
			for j+1 < len(toks) && toks[j].kind == tPunct && toks[j].s == "." && !toks[j].sp && toks[j+1].kind == tWord && len(toks[j+1].s) <= 2 && !toks[j+1].sp {
				b.WriteString(toks[j+1].s)
				end = toks[j+1].end
				j += 2
			}
			// swallow the closing full stop when a word follows without a boundary
			if j < len(toks) && toks[j].kind == tPunct && toks[j].s == "." && !toks[j].sp {
				end = toks[j].end
				j++
			}
			out = append(out, token{kind: tWord, s: b.String(), sp: t.sp, pos: t.pos, end: end})
			i = j - 1
			continue
		}
		out = append(out, t)
	}
	return out
}

// joinSpelled merges capital letters spelled out one by one in a
// transcript ("M R I", "E K G", "C O P D") into one word.
func joinSpelled(toks []token, orig string, offs []int) []token {
	upper := func(t token) bool {
		if t.kind != tWord || len(t.s) != 1 {
			return false
		}
		c := orig[offs[t.pos]]
		return c >= 'A' && c <= 'Z' && c != 'I'
	}
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		j := i
		for j+1 < len(toks) && upper(toks[j]) && upper(toks[j+1]) && toks[j+1].sp {
			j++
		}
		if j > i && upper(toks[i]) {
			var b strings.Builder
			for k := i; k <= j; k++ {
				b.WriteString(toks[k].s)
			}
			out = append(out, token{kind: tWord, s: b.String(), sp: toks[i].sp, pos: toks[i].pos, end: toks[j].end})
			i = j
			continue
		}
		out = append(out, toks[i])
	}
	return out
}

// analyze reads one text: a transcript turn, a note span, a fact or a
// draft sentence.
func (c *Checker) analyze(text, lang string, spoken bool) *analysis {
	folded, offs := foldMap(text)
	d := &doc{lang: lang, orig: text, offs: offs, spoken: spoken}
	d.toks = joinSpelled(joinDotted(tokenize(folded, lang == "en")), text, offs)
	n := len(d.toks)
	d.used = make([]bool, n)
	d.neg = make([]bool, n)
	d.clause = make([]int, n)
	a := &analysis{qStart: -1, ntoks: n}
	cl := 0
	for i := range d.toks {
		d.clause[i] = cl
		var next *token
		if i+1 < n {
			next = &d.toks[i+1]
		}
		if isHardBoundary(d.toks[i], next) {
			cl++
		}
	}
	c.questionAndAnswer(d, a)
	c.negation(d)
	c.dates(d, a)
	c.frequencies(d, a)
	c.quantities(d, a)
	c.medications(d, a)
	c.laterality(d, a)
	c.allergies(d, a)
	c.contentWords(d, a)
	// segments: clauses cut at commas and conjunctions, so that "left knee
	// swollen, right knee fine" gives each side its own findings
	seg := make([]int, n)
	sg := 0
	for i := range d.toks {
		if i > 0 && (d.clause[i] != d.clause[i-1] || d.isPunct(i, ",") || conj[d.word(i)]) {
			sg++
		}
		seg[i] = sg
	}
	c.directions(d, a, seg)
	// "penicillin gives me hives": a drug and a reaction said together is
	// an allergy, when no allergy word is there
	for _, m := range a.meds {
		if m.pol == polNeg {
			continue
		}
		has := false
		for _, al := range a.allergies {
			has = has || d.clause[al.tok] == d.clause[m.tok]
		}
		if has {
			continue
		}
		for _, w := range a.words {
			if d.clause[w.tok] == d.clause[m.tok] && w.pol == polPos && c.reactionOf(w) {
				a.allergies = append(a.allergies, allergyItem{tok: m.tok, text: m.text, meds: []string{medKey(m)}, implied: true})
				break
			}
		}
	}
	for k := range a.sides {
		cl := seg[a.sides[k].tok]
		for wi, w := range a.words {
			if seg[w.tok] == cl && w.kind == kindFinding {
				a.sides[k].fwords = append(a.sides[k].fwords, wi)
			}
		}
	}
	return a
}

// --- questions and answers ----------------------------------------------

var yesWords = map[string]bool{"yes": true, "yeah": true, "yep": true, "yup": true, "correct": true, "sure": true, "uh-huh": true,
	"mm-hmm": true, "kylla": true, "joo": true, "juu": true, "jep": true, "jo": true, "ja": true, "japp": true, "visst": true, "absolutely": true,
	"definitely": true, "indeed": true, "on": true, "oli": true, "onhan": true,
	// partial yes: "a bit", "sometimes", "vähän", "ibland"
	"bit": true, "little": true, "sometimes": true, "occasionally": true, "often": true, "lite": true, "ibland": true, "ofta": true,
	"vahan": true, "hieman": true, "joskus": true, "usein": true, "vahasen": true, "jonkin": true, "slightly": true, "somewhat": true,
	"right": true, "exactly": true, "true": true, "mhm": true, "niin": true, "juuri": true, "precis": true, "stammer": true, "absolut": true,
	"think": true, "guess": true, "probably": true, "todennakoisesti": true, "kai": true, "nog": true}

var noWords = map[string]bool{"no": true, "nope": true, "nah": true, "never": true, "not": true, "ei": true, "en": true, "eipa": true,
	"nej": true, "na": true, "naa": true, "inte": true, "ingen": true, "inga": true, "inget": true, "none": true, "aldrig": true,
	"nothing": true, "negative": true, "ingenting": true, "mitaan": true, "eikä": true, "eika": true}

// questionOpener reports the start of a question written without '?'.
func questionOpener(d *doc, k int) bool {
	w, nx := d.word(k), d.word(k+1)
	switch d.lang {
	case "en":
		switch w {
		case "any":
			return true
		case "have", "do", "did", "are", "were", "has", "does", "can", "could":
			return nx == "you" || nx == "she" || nx == "he" || nx == "it" || nx == "there"
		case "is":
			return nx == "there" || nx == "it" || nx == "she" || nx == "he"
		case "how", "what":
			return nx == "about"
		}
	case "sv":
		switch w {
		case "nagon", "nagot", "nagra":
			return true
		case "har", "ar", "kanner", "brukar", "tar", "hade", "fick", "blev":
			return nx == "du" || nx == "ni" || nx == "hon" || nx == "han" || nx == "det"
		}
	case "fi":
		return len(w) > 4 && (strings.HasSuffix(w, "ko") || strings.HasSuffix(w, "ks")) && (strings.HasPrefix(w, "on") || strings.HasPrefix(w, "ol") ||
			strings.HasSuffix(w, "tko") || strings.HasSuffix(w, "teko") || strings.HasSuffix(w, "uuko") || strings.HasSuffix(w, "eeko"))
	}
	return false
}

var fiQuestionWords = map[string]bool{"onko": true, "oliko": true, "onks": true, "onkos": true, "tuleeko": true, "tuntuuko": true,
	"sattuuko": true, "koskeeko": true, "kaytatko": true, "kaytatteko": true, "otatko": true, "otatteko": true, "oletko": true,
	"oletteko": true, "onhan": true, "eiko": true, "kuumeiletko": true, "yskitko": true, "poltatko": true, "juotko": true}

func (c *Checker) questionAndAnswer(d *doc, a *analysis) {
	n := len(d.toks)
	// the opening words of the text as an answer: "Absolutely not", "No,
	// not really", "Yes", "Joo", "Nej"
	seen := 0
	for i := 0; i < n && seen < 3; i++ {
		w := d.word(i)
		if w == "" {
			if d.toks[i].kind == tPunct && d.toks[i].s != "," {
				break
			}
			continue
		}
		seen++
		if noWords[w] && !(w == "no" && d.lang == "fi") && !(w == "en" && d.lang != "fi") || strings.HasSuffix(w, "n't") {
			// "no" in Finnish talk is "well"; "en" in Swedish is "a"
			a.answer, a.hasAns = polNeg, true
			break
		}
		if yesWords[w] && !(w == "ja" && d.lang == "fi") && !(w == "on" && d.lang != "fi") && !(w == "jo" && d.lang == "fi") && !a.hasAns {
			a.answer, a.hasAns = polPos, true
		}
	}
	// trailing questions: the last clauses end with '?' or open with a
	// Finnish question word ("Do you smoke or drink? Any drugs?")
	if n == 0 {
		return
	}
	start := -1
	end := n
	for end > 0 {
		cl := d.clause[end-1]
		first := end - 1
		for first > 0 && d.clause[first-1] == cl {
			first--
		}
		isQ, words := false, false
		nw := 0
		for k := first; k < end; k++ {
			if d.isPunct(k, "?") {
				isQ = true
			}
			if d.toks[k].kind == tWord {
				if !words && fiQuestionWords[d.toks[k].s] {
					isQ = true
				}
				// "okay and any numbness or tingling", "have you had any fever"
				if d.spoken && nw < 4 && questionOpener(d, k) {
					isQ = true
				}
				words = true
				nw++
			}
		}
		if !words {
			end = first
			continue
		}
		if !isQ {
			break
		}
		start = first
		end = first
	}
	if start < 0 && d.spoken {
		// a run-on turn from speech recognition: "… okay and do you have
		// any history of fever recently": the question starts at its opener
		last := d.clause[n-1]
		for k := n - 1; k >= 0 && d.clause[k] == last; k-- {
			if d.toks[k].kind == tWord && questionOpener(d, k) && !(d.word(k) == "any" && k > 0 && c.isNegCue(d, k-1)) {
				start = k
			}
			if start >= 0 && k < start-40 {
				break
			}
		}
	}
	if start < 0 {
		return
	}
	a.qStart = start
	for i := start; i < n; i++ {
		if noWords[d.word(i)] && d.word(i) != "na" || strings.HasSuffix(d.word(i), "n't") {
			a.qNeg = true
		}
	}
}

// --- negation ---------------------------------------------------------------

var negPre = map[string]bool{"unable": true, "cannot": true, "oformogen": true, "no": true, "not": true, "denies": true, "denied": true, "deny": true, "denying": true, "without": true,
	"never": true, "none": true, "nor": true, "neither": true, "non": true, "absent": false,
	"ei": true, "eika": true, "ilman": true, "kieltaa": true, "kielsi": true, "kiistaa": true, "eivat": true, "emme": true, "ette": true, "et": true, "eipa": true,
	"inte": true, "ej": true, "ingen": true, "inget": true, "inga": true, "utan": true, "aldrig": true, "icke": true, "fornekar": true,
	"fornekade": true, "varken": true, "negative": true, "negativ": true, "negatiivinen": true}

var negPost = map[string]bool{"denied": true, "absent": true, "negative": true, "none": true, "fornekas": true, "saknas": true,
	"negativ": true, "negatiivinen": true, "puuttuu": true, "ei": true, "nej": true, "poissa": true}

var negStop = map[string]bool{"but": true, "however": true, "although": true, "though": true, "except": true, "apart": true, "yet": true,
	"whereas": true, "while": true, "which": true, "aside": true, "besides": true, "has": true, "have": true, "had": true, "reports": true,
	"complains": true, "endorses": true, "mutta": true, "vaan": true, "paitsi": true, "kuitenkin": true, "vaikka": true, "on": true,
	"kertoo": true, "men": true, "dock": true, "forutom": true, "utom": true, "daremot": true, "fast": true, "har": true, "hade": true,
	"uppger": true, "yes": true, "kylla": true, "joo": true, "still": true, "edelleen": true, "fortfarande": true}

// verbStop are the terminators that end a scope only after a comma or a
// conjunction ("no fever, has a cough"), not right after the cue.
var verbStop = map[string]bool{"has": true, "have": true, "had": true, "on": true, "har": true, "hade": true, "reports": true,
	"complains": true, "endorses": true, "kertoo": true, "uppger": true}

// scopeBreak words end a negation's scope after its first word.
var scopeBreak = map[string]bool{"for": true, "because": true, "due": true, "since": true, "koska": true, "vuoksi": true, "takia": true,
	"eftersom": true, "pga": true}

var pronoun = map[string]bool{"i": true, "he": true, "she": true, "they": true, "we": true, "you": true, "it": true, "han": true,
	"hon": true, "de": true, "vi": true, "jag": true, "du": true, "me": true, "mina": true}

var conj = map[string]bool{"and": true, "but": true, "ja": true, "mutta": true, "och": true, "men": true, "sekä": true, "seka": true}

// pseudo-negations: "no change", "not only", "ei muutosta" say nothing is absent.
var negPseudo = map[string]bool{"change": true, "changes": true, "changed": true, "only": true, "sure": true, "certain": true,
	"muutosta": true, "muutoksia": true, "vain": true, "ainoastaan": true, "forandring": true, "forandringar": true, "bara": true,
	"endast": true, "further": true, "worse": true, "better": true, "huonompi": true, "parempi": true, "battre": true, "samre": true}

func (c *Checker) isNegCue(d *doc, i int) bool {
	w := d.word(i)
	if w == "" {
		return false
	}
	if strings.HasSuffix(w, "n't") || strings.HasSuffix(w, "nt") && (w == "dont" || w == "doesnt" || w == "didnt" || w == "hasnt" || w == "havent" || w == "isnt" || w == "wasnt" || w == "cant" || w == "wont") {
		return true
	}
	switch w {
	case "no":
		return d.lang != "fi"
	case "en":
		return d.lang == "fi"
	case "et":
		return d.lang == "fi"
	case "free":
		return d.word(i+1) == "of" || d.word(i+1) == "from"
	case "negative", "negativ", "negatiivinen":
		// "negative for", and note shorthand "negative myalgia"
		return d.word(i+1) != "" && !(i > 0 && d.toks[i-1].kind == tWord && !c.lex.stop[d.word(i-1)])
	}
	return negPre[w]
}

// hypoCue reports a word opening a condition or a possibility.
func hypoCue(d *doc, i int) bool {
	switch d.word(i) {
	case "if", "unless", "should", "jos", "mikali", "ifall", "possible", "possibly", "probable", "probably", "suspected", "suspect",
		"mahdollinen", "mahdollisesti", "epaily", "epailty", "epaillaan", "misstankt", "misstanke", "eventuell", "eventuellt", "mojlig", "mojligen", "rule":
		return true
	case "om":
		return d.lang == "sv" && strings.EqualFold(d.text(i, i), "om") // not "öm", tender
	case "in":
		return d.word(i+1) == "case"
	}
	return false
}

// pastCue reports words after which a finding is history, neither
// asserted nor denied now ("former smoker", "före detta rökare", "quit").
func pastCue(d *doc, i int) bool {
	switch d.word(i) {
	case "former", "ex", "previously", "formerly", "entinen", "aiemmin", "aikaisemmin", "tidigare", "fd", "quit", "quitted", "lopettanut",
		"lopetti", "slutade", "slutat", "past", "used":
		return true
	case "fore":
		return d.word(i+1) == "detta"
	}
	return false
}

// negation marks the tokens inside each negation's scope: after a cue up
// to a clause boundary, a contrast word or eight tokens; and the words
// just before a post-posed cue ("chest pain denied", Finnish "kuumetta
// ei ole" with the partitive).
func (c *Checker) negation(d *doc) {
	n := len(d.toks)
	for i := 0; i < n; i++ {
		if !c.isNegCue(d, i) {
			continue
		}
		// "No, mainly the chest pain": an answer's "no" speaks to the question
		if (i == 0 || d.toks[i-1].kind == tPunct) && i+1 < n && d.toks[i+1].kind == tPunct && d.toks[i+1].s != ":" && d.toks[i+1].s != "-" {
			continue
		}
		if negPseudo[d.word(i+1)] || negPseudo[d.word(i+2)] && (d.word(i+1) == "any" || d.word(i+1) == "ole") {
			continue
		}
		w := d.word(i)
		// Finnish "ei"/"ei ole" after partitive words negates them
		if (w == "ei" || w == "eika") && i > 0 {
			for k := i - 1; k >= 0 && k >= i-3 && d.clause[k] == d.clause[i]; k-- {
				pw := d.word(k)
				if pw == "" || !(strings.HasSuffix(pw, "a") || strings.HasSuffix(pw, "ta")) || c.lex.stop[pw] {
					break
				}
				d.neg[k] = true
			}
		}
		words := 0
		for k := i + 1; k < n && d.clause[k] == d.clause[i]; k++ {
			wk := d.word(k)
			if negStop[wk] && !(wk == "on" && d.lang != "fi") && !(wk == "har" && d.lang != "sv") {
				// "no fever, has a cough" ends the scope; "does not have
				// any fever", "har inte", "ei ole" do not
				if !verbStop[wk] || d.isPunct(k-1, ",") || conj[d.word(k-1)] {
					break
				}
			}
			if d.isPunct(k, ",") && (negStop[d.word(k+1)] || d.word(k+1) == "and" && negStop[d.word(k+2)]) {
				break
			}
			if d.isPunct(k, ",") && d.spoken && i <= 2 {
				break // a turn opening "No, not really, I feel dizzy" answers a question
			}
			if words >= 1 && scopeBreak[wk] {
				break // "never been treated for depression"
			}
			if w == "non" && words >= 1 {
				break // "non-throbbing headache": only the next word
			}
			// "… and they found a nodule": a new clause with its own subject
			if (conj[wk] || wk == "so" || wk == "then" || wk == "when" || wk == "kun" || wk == "nar" || wk == "sitten") && pronoun[d.word(k+1)] {
				break
			}
			if d.isPunct(k, ",") {
				if pronoun[d.word(k+1)] {
					break
				}
				words = 0 // "denies fever, chills, night sweats, weight loss": each item gets its own count
			}
			d.neg[k] = true
			if wk != "" && !c.lex.stop[wk] {
				words++
				if words >= 6 {
					break
				}
			}
		}
	}
	// history and conditions: "former smoker", "if he develops a fever"
	// are neither asserted nor denied
	d.past = make([]bool, n)
	for i := 0; i < n; i++ {
		if hypoCue(d, i) {
			for k := i + 1; k < n && d.clause[k] == d.clause[i] && !d.isPunct(k, ","); k++ {
				d.past[k] = true
			}
			continue
		}
		if pastCue(d, i) {
			for k := i + 1; k < n && k <= i+4 && d.clause[k] == d.clause[i]; k++ {
				d.past[k] = true
			}
		}
	}
	// post-posed cues
	for i := 1; i < n; i++ {
		w := d.word(i)
		if !negPost[w] || w == "ei" && d.lang != "fi" {
			continue
		}
		if w == "ei" {
			continue // handled above with the partitive
		}
		if w == "none" || w == "nej" || w == "negative" || w == "negativ" {
			// "fever: none", "feber: nej"
			if !(d.isPunct(i-1, ":") || d.isPunct(i-1, "-")) && w != "negative" && w != "negativ" {
				continue
			}
		}
		if nx := i + 1; nx < n && d.toks[nx].kind == tWord && d.clause[nx] == d.clause[i] && w != "saknas" && w != "puuttuu" {
			continue // "denied vomiting" is a cue before its words, handled above
		}
		words := 0
		for k := i - 1; k >= 0 && d.clause[k] == d.clause[i]; k-- {
			if negStop[d.word(k)] || conj[d.word(k)] || d.isPunct(k, ",") {
				break
			}
			if d.toks[k].kind == tWord {
				words++
				if words > 4 {
					break
				}
			}
			d.neg[k] = true
		}
		// the clause may end at the ':' before "none"
		if d.isPunct(i-1, ":") {
			words = 0
			for k := i - 2; k >= 0 && d.clause[k] == d.clause[i-2] && words < 4; k-- {
				if d.toks[k].kind == tWord {
					words++
				}
				d.neg[k] = true
			}
		}
	}
}

// --- dates ------------------------------------------------------------------

var weekdays = [][]string{
	{"monday", "mon", "maanantai", "mandag"},
	{"tuesday", "tue", "tues", "tiistai", "tisdag"},
	{"wednesday", "wed", "keskiviikko", "onsdag"},
	{"thursday", "thu", "thur", "thurs", "torstai", "torsdag"},
	{"friday", "fri", "perjantai", "fredag"},
	{"saturday", "lauantai", "lordag"},
	{"sunday", "sunnuntai", "sondag"},
}

var months = [][]string{
	{"january", "jan", "tammikuu", "januari"},
	{"february", "feb", "helmikuu", "februari"},
	{"march", "maaliskuu", "mars"},
	{"april", "apr", "huhtikuu"},
	{"may", "toukokuu", "maj"},
	{"june", "jun", "kesakuu", "juni"},
	{"july", "jul", "heinakuu", "juli"},
	{"august", "aug", "elokuu", "augusti"},
	{"september", "sep", "sept", "syyskuu"},
	{"october", "oct", "lokakuu", "oktober", "okt"},
	{"november", "nov", "marraskuu"},
	{"december", "dec", "joulukuu"},
}

// weekday returns 1–7 for a weekday word (inflected or with -s: "maanantaina", "mandags").
func weekday(w string) int {
	for i, forms := range weekdays {
		for _, f := range forms {
			if w == f || len(f) > 5 && strings.HasPrefix(w, f) {
				return i + 1
			}
		}
	}
	return 0
}

// month returns 1–12 for a month word. Short forms must be exact; "may"
// and "mars" count only next to a day number (checked by the caller).
func month(w string) int {
	for i, forms := range months {
		for _, f := range forms {
			if w == f || len(f) > 5 && strings.HasPrefix(w, f) {
				return i + 1
			}
		}
	}
	return 0
}

var relDays = map[string]string{"yesterday": "-1d", "eilen": "-1d", "igar": "-1d", "tomorrow": "+1d", "huomenna": "+1d",
	"imorgon": "+1d", "toissapaivana": "-2d", "ylihuomenna": "+2d", "forrgar": "-2d", "overmorgon": "+2d"}

func dayNum(t token) (int, bool) {
	if t.kind != tNum || t.num != math.Trunc(t.num) || t.num < 1 || t.num > 31 {
		return 0, false
	}
	return int(t.num), true
}

func (c *Checker) dates(d *doc, a *analysis) {
	n := len(d.toks)
	add := func(key string, from, to int) {
		a.dates = append(a.dates, dateItem{key: key, tok: from, text: d.text(from, to)})
		for k := from; k <= to; k++ {
			d.used[k] = true
		}
	}
	for i := 0; i < n; i++ {
		t := d.toks[i]
		if d.used[i] {
			continue
		}
		switch t.kind {
		case tNum:
			// m/d/yyyy in English, d/m/yyyy otherwise (always with a year:
			// "120/80" is a blood pressure)
			if i+4 < n && d.isPunct(i+1, "/") && d.toks[i+2].kind == tNum && d.isPunct(i+3, "/") && d.toks[i+4].kind == tNum &&
				!d.toks[i+1].sp && !d.toks[i+2].sp && !d.toks[i+3].sp && !d.toks[i+4].sp {
				m, dd, y := t.num, d.toks[i+2].num, d.toks[i+4].num
				if d.lang != "en" || m > 12 {
					m, dd = dd, m
				}
				if y < 100 {
					y += 1900
					if y < 1930 {
						y += 100
					}
				}
				if m >= 1 && m <= 12 && dd >= 1 && dd <= 31 {
					a.dates = append(a.dates, dateItem{key: "y:" + strconv.Itoa(int(y)), tok: i})
					add("md:"+strconv.Itoa(int(m))+"-"+strconv.Itoa(int(dd)), i, i+4)
					continue
				}
			}
			// d.m. / d.m.yyyy
			if dd, ok := dayNum(t); ok && d.isPunct(i+1, ".") && !d.toks[i+1].sp && i+2 < n && d.toks[i+2].kind == tNum && !d.toks[i+2].sp {
				if mm := d.toks[i+2].num; mm >= 1 && mm <= 12 && mm == math.Trunc(mm) {
					end := i + 2
					if d.isPunct(i+3, ".") && !d.toks[i+3].sp {
						end = i + 3
						if i+4 < n && d.toks[i+4].kind == tNum && !d.toks[i+4].sp {
							end = i + 4
							y := d.toks[i+4].num
							if y < 100 {
								y += 2000
							}
							a.dates = append(a.dates, dateItem{key: "y:" + strconv.Itoa(int(y)), tok: i})
						}
					} else if d.lang == "en" {
						continue // "3.5" in English text is a decimal, handled as a number
					}
					add("md:"+strconv.Itoa(int(mm))+"-"+strconv.Itoa(dd), i, end)
					continue
				}
			}
			// yyyy-mm-dd
			if t.num >= 1900 && t.num <= 2100 && len(t.s) == 4 && d.isPunct(i+1, "-") && i+4 < n && d.toks[i+2].kind == tNum && d.isPunct(i+3, "-") && d.toks[i+4].kind == tNum {
				mm, dd := d.toks[i+2].num, d.toks[i+4].num
				if mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 {
					a.dates = append(a.dates, dateItem{key: "y:" + strconv.Itoa(int(t.num)), tok: i})
					add("md:"+strconv.Itoa(int(mm))+"-"+strconv.Itoa(int(dd)), i, i+4)
					continue
				}
			}
			// 3 March, 3. maaliskuuta, 3rd of March, den 3:e mars
			if dd, ok := dayNum(t); ok {
				j := i + 1
				for j < n && (d.isPunct(j, ".") || d.isPunct(j, ":") || d.word(j) == "st" || d.word(j) == "nd" || d.word(j) == "rd" || d.word(j) == "th" || d.word(j) == "e" || d.word(j) == "of" || d.word(j) == "a") && j < i+4 {
					j++
				}
				if m := month(d.word(j)); m > 0 {
					add("md:"+strconv.Itoa(m)+"-"+strconv.Itoa(dd), i, j)
					continue
				}
			}
		case tWord:
			w := t.s
			if wd := weekday(w); wd > 0 {
				add("wd:"+strconv.Itoa(wd), i, i)
				continue
			}
			if dd, ok := ordinal(w); ok {
				j := i + 1
				if d.word(j) == "of" {
					j++
				}
				if m := month(d.word(j)); m > 0 {
					add("md:"+strconv.Itoa(m)+"-"+strconv.Itoa(dd), i, j)
					continue
				}
			}
			if m := month(w); m > 0 {
				// March 3, March 3rd, March the third
				j := i + 1
				if d.word(j) == "the" {
					j++
				}
				if j < n {
					if dd, end, ok := c.dayAt(d, j); ok {
						end = c.yearAfter(d, a, end)
						add("md:"+strconv.Itoa(m)+"-"+strconv.Itoa(dd), i, end)
						continue
					}
				}
				if w == "may" || w == "mars" || w == "jan" || w == "jun" || w == "jul" || w == "dec" || w == "sep" || w == "apr" || w == "aug" || w == "nov" || w == "oct" || w == "okt" || w == "feb" {
					// "may" the verb, "mars" the planet: only with a day
					continue
				}
				add("m:"+strconv.Itoa(m), i, i)
				continue
			}
			if r, ok := relDays[w]; ok {
				add("rel:"+r, i, i)
				continue
			}
			switch {
			case (w == "i" || w == "in") && (d.word(i+1) == "gar" || d.word(i+1) == "forrgar" || d.word(i+1) == "morgon" && d.lang == "sv"):
				r := map[string]string{"gar": "-1d", "forrgar": "-2d", "morgon": "+1d"}[d.word(i+1)]
				add("rel:"+r, i, i+1)
			case (w == "last" || w == "viime" || w == "forra" || w == "forriga") && isWeekWord(d.word(i+1)):
				add("rel:-1w", i, i+1)
			case (w == "next" || w == "ensi" || w == "nasta" || w == "tulevalla") && isWeekWord(d.word(i+1)):
				add("rel:+1w", i, i+1)
			case w == "day" && d.word(i+1) == "before" && d.word(i+2) == "yesterday":
				add("rel:-2d", i, i+2)
			}
		}
	}
}

// timeOfDay reads a time of day said as a dosing time ("in the morning",
// "iltaisin", "till natten") at i: its slot and last token.
func timeOfDay(d *doc, i int) (byte, int) {
	w := d.word(i)
	nx := d.word(i + 1)
	switch {
	case (w == "in" && nx == "the" || w == "every" || w == "each") && (d.word(i+2) == "morning" || d.word(i+2) == "evening") && w == "in":
		return slotOf(d.word(i + 2)), i + 2
	case (w == "every" || w == "each") && (nx == "morning" || nx == "evening" || nx == "night"):
		return slotOf(nx), i + 1
	case w == "at" && (nx == "night" || nx == "bedtime"):
		return 'e', i + 1
	case w == "before" && (nx == "bed" || nx == "bedtime" || nx == "sleep"):
		return 'e', i + 1
	case w == "nightly" || w == "mornings" || w == "evenings" || w == "qam" || w == "qpm":
		if w == "mornings" || w == "qam" {
			return 'm', i
		}
		return 'e', i
	case w == "aamulla" || w == "aamuisin" || w == "aamuin" && nx != "illoin" || w == "aamuiseen":
		return 'm', i
	case w == "joka" && (nx == "aamu" || nx == "ilta" || nx == "yo"):
		if nx == "aamu" {
			return 'm', i + 1
		}
		return 'e', i + 1
	case w == "illalla" || w == "iltaisin" || w == "illoin" || w == "iltaan" || w == "yoksi":
		return 'e', i
	case w == "ennen" && (strings.HasPrefix(nx, "nukkuma") || nx == "nukkumaan"):
		return 'e', i + 1
	case (w == "pa" || w == "varje") && (strings.HasPrefix(nx, "morgon") || strings.HasPrefix(nx, "morgn")):
		return 'm', i + 1
	case (w == "pa" || w == "varje" || w == "till") && (strings.HasPrefix(nx, "kvall") || strings.HasPrefix(nx, "natt")):
		return 'e', i + 1
	}
	return 0, i
}

func slotOf(w string) byte {
	if w == "morning" {
		return 'm'
	}
	return 'e'
}

func isTimeUnit(c *Checker, w string) bool {
	u, ok := c.units[w]
	return ok && u.dim == "time"
}

// dayAt reads a day of the month at j: "29", "29th", "ninth", "twenty
// ninth", "twenty-ninth".
func (c *Checker) dayAt(d *doc, j int) (int, int, bool) {
	if j >= len(d.toks) {
		return 0, j, false
	}
	if dd, ok := dayNum(d.toks[j]); ok {
		if sfx := d.word(j + 1); sfx == "st" || sfx == "nd" || sfx == "rd" || sfx == "th" {
			return dd, j + 1, true
		}
		return dd, j, true
	}
	w := d.word(j)
	if dd, ok := ordinal(w); ok {
		return dd, j, true
	}
	if tens, ok := c.numParser(d.lang).isNumberWord(w); ok && (tens == 20 || tens == 30) {
		k := j + 1
		if d.isPunct(k, "-") {
			k++
		}
		if u, ok := ordinal(d.word(k)); ok && u < 10 {
			return int(tens) + u, k, true
		}
	}
	return 0, j, false
}

// yearAfter reads a year right after a date ("July 29, 2008", "July
// twenty ninth two thousand eight") and records it.
func (c *Checker) yearAfter(d *doc, a *analysis, end int) int {
	k := end + 1
	if d.isPunct(k, ",") {
		k++
	}
	if k >= len(d.toks) {
		return end
	}
	if v, e, ok := c.numberAt(d, k); ok && v >= 1900 && v <= 2100 && v == math.Trunc(v) {
		a.dates = append(a.dates, dateItem{key: "y:" + strconv.Itoa(int(v)), tok: k})
		return e
	}
	return end
}

func isWeekWord(w string) bool {
	return w == "week" || strings.HasPrefix(w, "viiko") || w == "veckan" || w == "vecka"
}

// --- frequencies ------------------------------------------------------------

func perPeriod(w string) float64 {
	switch w {
	case "vrk", "d", "dag", "dagen", "dygn", "dygnet", "day", "daily", "paiva", "paivassa", "paivittain", "vuorokaudessa", "dagligen", "pv", "vuorokausi":
		return 1
	case "vko", "vk", "viikossa", "week", "weekly", "veckan", "vecka", "viikoittain", "wk", "v":
		return 1.0 / 7
	case "kk", "kuukaudessa", "month", "monthly", "manaden", "manad", "kuukausittain":
		return 1.0 / 30
	}
	return 0
}

var timesWords = map[string]bool{"x": true, "times": true, "kertaa": true, "krt": true, "ggr": true, "ganger": true, "gang": true, "kerran": true, "time": true}

var freqAbbrev = map[string]float64{"od": 1, "qd": 1, "bid": 2, "bd": 2, "tid": 3, "tds": 3, "qid": 4, "qds": 4, "qhs": 1, "nocte": 1,
	"mane": 1, "prn": -1, "tarvittaessa": -1, "tarv": -1, "vb": -1, "qod": 0.5,
	"kahdesti": 2, "kolmesti": 3, "neljasti": 4, "twice": 2, "thrice": 3, "once": 1,
	"daily": 1, "paivittain": 1, "dagligen": 1, "weekly": 1.0 / 7, "viikoittain": 1.0 / 7}

func (c *Checker) frequencies(d *doc, a *analysis) {
	n := len(d.toks)
	add := func(rate float64, from, to int) {
		a.freqs = append(a.freqs, freqItem{rate: rate, tok: from, text: d.text(from, to)})
		for k := from; k <= to; k++ {
			d.used[k] = true
		}
	}
	// period after position j: "/vrk", "a day", "per day", "päivässä", "om dagen", "i veckan"
	period := func(j int) (float64, int) {
		if d.isPunct(j, "/") {
			if p := perPeriod(d.word(j + 1)); p > 0 {
				return p, j + 1
			}
		}
		w := d.word(j)
		if p := perPeriod(w); p > 0 && w != "d" && w != "v" {
			return p, j
		}
		switch w {
		case "a", "per", "om", "i", "every", "each", "joka", "varje", "an":
			if p := perPeriod(d.word(j + 1)); p > 0 {
				return p, j + 1
			}
		}
		return 0, j - 1
	}
	weak := func(slot byte, from, to int) {
		a.freqs = append(a.freqs, freqItem{rate: 1, tok: from, text: d.text(from, to), weak: true, slot: slot})
		for k := from; k <= to; k++ {
			d.used[k] = true
		}
	}
	for i := 0; i < n; i++ {
		if d.used[i] {
			continue
		}
		t := d.toks[i]
		w := d.word(i)
		if slot, end := timeOfDay(d, i); slot != 0 {
			weak(slot, i, end)
			i = end
			continue
		}
		switch {
		case w == "x" && d.lang == "en" && i+1 < n && d.toks[i+1].kind == tNum && isTimeUnit(c, d.word(i+2)):
			// "x3 weeks": a duration, read by quantities
			d.used[i] = true
		case (w == "divided" || w == "jaettuna" || w == "fordelat" || w == "fordelad" || w == "uppdelat") && i+3 < n:
			// "divided in two doses", "jaettuna kahteen annokseen", "fördelat på två doser"
			j := i + 1
			if x := d.word(j); x == "in" || x == "into" || x == "pa" || x == "over" {
				j++
			}
			if v, end, ok := c.numberAt(d, j); ok && v > 0 && v <= 6 {
				if u := d.word(end + 1); strings.HasPrefix(u, "dose") || strings.HasPrefix(u, "annok") || strings.HasPrefix(u, "dos") {
					add(v, i, end+1)
				}
			}
		case w == "x" && i+1 < n && d.toks[i+1].kind == tNum && (strings.HasPrefix(d.word(i-1), "orient") || d.word(i-1) == "ao" || c.units[d.word(i+2)].dim == "length"):
			d.used[i] = true // "alert and oriented x3"
		case w == "x" && i+1 < n && d.toks[i+1].kind == tNum:
			// "x2", "1x2", "x 3/vrk"
			rate := d.toks[i+1].num
			p, end := period(i + 2)
			if p == 0 {
				p, end = 1, i+1
			}
			add(rate*p, i, end)
		case t.kind == tNum && d.word(i+1) == "x" && (i+2 >= n || d.toks[i+2].kind != tNum):
			// "2x/vrk", "2 x daily", "3x"
			p, end := period(i + 2)
			if p == 0 {
				p, end = 1, i+1
			}
			add(t.num*p, i, end)
		case t.kind == tNum && d.isPunct(i+1, "+") && i+4 < n && d.toks[i+2].kind == tNum && d.isPunct(i+3, "+") && d.toks[i+4].kind == tNum:
			// dosing scheme 1+0+1(+0): the count of non-zero slots
			end := i + 4
			cnt := 0.0
			for k := i; k <= end; k += 2 {
				if d.toks[k].num > 0 {
					cnt++
					a.nums = append(a.nums, numItem{v: d.toks[k].num, tok: k, text: d.toks[k].s, word: true})
				}
			}
			if d.isPunct(end+1, "+") && end+2 < n && d.toks[end+2].kind == tNum {
				end += 2
				if d.toks[end].num > 0 {
					cnt++
				}
			}
			add(cnt, i, end)
		case w == "q" && i+2 < n && d.toks[i+1].kind == tNum && (d.word(i+2) == "h" || d.word(i+2) == "hrs" || d.word(i+2) == "hours") && d.toks[i+1].num > 0:
			add(24/d.toks[i+1].num, i, i+2)
		case (w == "every" || w == "each" || w == "var" || w == "varje" || w == "joka") && i+1 < n:
			// every 8 hours, var 8:e timme, every day
			j := i + 1
			v := 1.0
			if d.toks[j].kind == tNum {
				v = d.toks[j].num
				j++
				if d.isPunct(j, ":") && d.word(j+1) == "e" {
					j += 2
				}
			} else if x, ok := c.numParser(d.lang).isNumberWord(d.word(j)); ok {
				v = x
				j++
			} else if o, ok := ordinal(d.word(j)); ok {
				v = float64(o)
				j++
			} else if d.word(j) == "other" {
				v = 2
				j++
			}
			u, ok := c.units[d.word(j)]
			if ok && u.dim == "time" && v > 0 {
				add(24/(v*u.factor), i, j)
			} else if p := perPeriod(d.word(i + 1)); p > 0 && d.word(i+1) != "d" {
				add(p, i, i+1)
			}
		case w == "varannan" && (d.word(i+1) == "dag" || d.word(i+1) == "vecka"):
			if d.word(i+1) == "dag" {
				add(0.5, i, i+1)
			} else {
				add(1.0/14, i, i+1)
			}
		case t.kind == tNum && i+1 < n && d.word(i+1) == "tunnin" && (d.word(i+2) == "valein" || d.word(i+2) == "valin"):
			if t.num > 0 {
				add(24/t.num, i, i+2)
			}
		case timesWords[w] && i > 0 && w != "x":
			// "2 times a day", "kolme kertaa päivässä", "2 ggr/dag", "kerran viikossa", "en gång i veckan"
			num, start := 0.0, i
			if w == "kerran" {
				num = 1
			} else if d.toks[i-1].kind == tNum && !d.used[i-1] {
				num, start = d.toks[i-1].num, i-1
			} else if v, ok := c.numParser(d.lang).isNumberWord(d.word(i - 1)); ok {
				num, start = v, i-1
			} else if isArticle(d.word(i - 1)) {
				num, start = 1, i-1
			}
			if num == 0 {
				continue
			}
			p, end := period(i + 1)
			if p == 0 {
				continue // "three times" alone is a count, read as a number
			}
			add(num*p, start, end)
		case w == "as" && (d.word(i+1) == "needed" || d.word(i+1) == "required"),
			(w == "when" || w == "if") && d.word(i+1) == "needed",
			w == "vid" && d.word(i+1) == "behov",
			w == "on" && d.word(i+1) == "demand":
			add(-1, i, i+1)
		case w == "morning" && d.word(i+1) == "and" && (d.word(i+2) == "evening" || d.word(i+2) == "night"),
			w == "aamuin" && d.word(i+1) == "illoin",
			w == "aamulla" && d.word(i+1) == "ja" && d.word(i+2) == "illalla",
			w == "morgon" && d.word(i+1) == "och" && d.word(i+2) == "kvall":
			end := i + 2
			if w == "aamuin" {
				end = i + 1
			}
			add(2, i, end)
		default:
			if r, ok := freqAbbrev[w]; ok {
				if (w == "once" || w == "twice" || w == "thrice" || w == "kahdesti" || w == "kolmesti" || w == "neljasti") && !d.used[i] {
					p, end := period(i + 1)
					if p == 0 {
						continue // "twice" alone: a count
					}
					add(r*p, i, end)
					continue
				}
				if w == "daily" || w == "paivittain" || w == "dagligen" || w == "weekly" || w == "viikoittain" {
					add(r, i, i)
					a.freqs[len(a.freqs)-1].word = true
					continue
				}
				add(r, i, i)
			}
		}
	}
}

// --- numbers and quantities ---------------------------------------------

func (c *Checker) numParser(lang string) *numberParser {
	if lang == "sv" {
		return c.numSv
	}
	return c.nums
}

// numberAt reads a number starting at token i: digits, number words in
// any of the three languages ("one hundred and twenty", "satakaksikymmentä",
// "hundra tjugo"), halves ("one and a half", "puolitoista", "2,5"). It
// returns the value and the last token used.
func (c *Checker) numberAt(d *doc, i int) (float64, int, bool) {
	n := len(d.toks)
	t := d.toks[i]
	if t.kind == tNum {
		v := t.num
		end := i
		// fractions: "1/2", "2-1/2", "1 1/2"
		frac := func(k int) (float64, bool) {
			if k+2 < n && d.toks[k].kind == tNum && d.isPunct(k+1, "/") && !d.toks[k+1].sp && d.toks[k+2].kind == tNum &&
				(d.toks[k+2].num == 2 || d.toks[k+2].num == 4) && d.toks[k].num < d.toks[k+2].num && d.toks[k].num >= 1 {
				return d.toks[k].num / d.toks[k+2].num, true
			}
			return 0, false
		}
		if f, ok := frac(i); ok && (i+3 >= n || !d.isPunct(i+3, "/")) {
			return f, i + 2, true
		}
		if d.isPunct(i+1, "-") && !d.toks[i+1].sp || i+1 < n && d.toks[i+1].kind == tNum && d.toks[i+1].sp {
			k := i + 1
			if d.isPunct(k, "-") {
				k++
			}
			if f, ok := frac(k); ok {
				return v + f, k + 2, true
			}
		}
		// "1 000" thousands
		if i+1 < n && d.toks[i+1].kind == tNum && d.toks[i+1].sp && len(d.toks[i+1].s) == 3 && len(t.s) <= 3 && !strings.ContainsAny(d.toks[i+1].s, ".,") {
			v = v*1000 + d.toks[i+1].num
			end = i + 1
		}
		// "1 and a half"
		if j, ok := c.andAHalf(d, end+1); ok {
			return v + 0.5, j, true
		}
		return v, end, true
	}
	w := t.s
	if w == "" {
		return 0, i, false
	}
	switch w {
	case "couple", "pari", "paria":
		if w == "couple" && d.word(i+1) != "of" {
			break
		}
		if w == "couple" {
			return 2, i + 1, true
		}
		return 2, i, true
	case "par":
		if d.word(i-1) == "ett" {
			return 2, i, true
		}
	case "once", "kerran":
		return 1, i, true
	case "twice", "kahdesti", "kahesti":
		return 2, i, true
	case "thrice", "kolmesti":
		return 3, i, true
	case "neljasti":
		return 4, i, true
	}
	if oneAndHalfWord(w) {
		return 1.5, i, true
	}
	if halfWord(w) {
		return 0.5, i, true
	}
	if (w == "a" || w == "en") && halfWord(d.word(i+1)) {
		return 0.5, i + 1, true
	}
	np := c.numParser(d.lang)
	var st numState
	if !np.word(w, &st) {
		return 0, i, false
	}
	end := i
	for j := i + 1; j < n; j++ {
		wj := d.word(j)
		if d.isPunct(j, "-") && !d.toks[j].sp {
			continue
		}
		if (wj == "and" || wj == "och" || wj == "ja") && (st.last == 'h' || st.last == 'm') {
			continue
		}
		if wj == "" || !np.word(wj, &st) {
			break
		}
		end = j
	}
	v := st.value()
	if j, ok := c.andAHalf(d, end+1); ok {
		return v + 0.5, j, true
	}
	// "thirty-nine point two", "kolmekymmentäyhdeksän pilkku kaksi", "trettionio komma två"
	if pw := d.word(end + 1); pw == "point" || pw == "pilkku" || pw == "komma" {
		scale := 0.1
		j := end + 2
		for j < n {
			var dv float64
			var ok bool
			if d.toks[j].kind == tNum && len(d.toks[j].s) == 1 {
				dv, ok = d.toks[j].num, true
			} else {
				dv, ok = np.isNumberWord(d.word(j))
				ok = ok && dv < 10
			}
			if !ok {
				break
			}
			v += dv * scale
			scale /= 10
			end = j
			j++
		}
		return math.Round(v*1e6) / 1e6, end, true
	}
	// spoken English "one fifty-two" (152), "one twenty" (120)
	if d.lang == "en" && v >= 1 && v <= 9 && st.cur == 0 && st.total == 0 && end+1 < n {
		var st2 numState
		if w2 := d.word(end + 1); w2 != "" && np.word(w2, &st2) {
			e2 := end + 1
			for j := e2 + 1; j < n; j++ {
				if d.isPunct(j, "-") && !d.toks[j].sp {
					continue
				}
				if wj := d.word(j); wj == "" || !np.word(wj, &st2) {
					break
				}
				e2 = j
			}
			if x := st2.value(); x >= 10 && x <= 99 && st2.cur == 0 {
				return v*100 + x, e2, true
			}
		}
	}
	return v, end, true
}

// andAHalf reads "and a half", "ja puoli", "och en halv" at i.
func (c *Checker) andAHalf(d *doc, i int) (int, bool) {
	skip := func(k int) int {
		for d.isPunct(k, "-") {
			k++
		}
		return k
	}
	i = skip(i)
	w := d.word(i)
	if w != "and" && w != "ja" && w != "och" {
		return 0, false
	}
	j := skip(i + 1)
	if halfWord(d.word(j)) {
		return j, true
	}
	if k := skip(j + 1); (d.word(j) == "a" || d.word(j) == "en") && halfWord(d.word(k)) {
		return k, true
	}
	return 0, false
}

// unitAt reads a unit at token i: a unit word, "mm Hg", "°C", compound
// units ("mmol/l", "mg/ml") and per-day doses ("mg/vrk"). It returns the
// unit, the last token used, and whether it is a per-day total.
func (c *Checker) unitAt(d *doc, i int) (unitInfo, string, int, bool) {
	if i >= len(d.toks) {
		return unitInfo{}, "", i, false
	}
	t := d.toks[i]
	w := t.s
	if t.kind == tPunct {
		switch w {
		case "%":
			return unitInfo{"percent", 1}, "%", i, true
		case "°":
			if d.word(i+1) == "c" {
				return unitInfo{"temp", 1}, "°c", i + 1, true
			}
			return unitInfo{"temp", 1}, "°", i, true
		case "-":
			// 45-year-old, 10-mg
			if !t.sp && i+1 < len(d.toks) && !d.toks[i+1].sp {
				u, name, end, ok := c.unitAt(d, i+1)
				if ok && (u.dim == "time" || u.dim == "age" || u.dim == "mass") {
					if u.dim == "time" && d.isPunct(end+1, "-") && d.word(end+2) == "old" {
						return unitInfo{"age", 1}, "year-old", end + 2, true
					}
					return u, name, end, true
				}
			}
			return unitInfo{}, "", i, false
		}
		return unitInfo{}, "", i, false
	}
	if t.kind != tWord {
		return unitInfo{}, "", i, false
	}
	if w == "mm" && d.word(i+1) == "hg" {
		return unitInfo{"pressure", 1}, "mmhg", i + 1, true
	}
	if (w == "beats" || w == "slag") && (d.word(i+1) == "per" || d.isPunct(i+1, "/")) {
		return unitInfo{"rate", 1}, "bpm", i + 2, true
	}
	u, ok := c.units[w]
	if w == "v" && d.lang == "sv" {
		u, ok = unitInfo{"time", 168}, true
	} else if w == "v" && d.lang == "fi" {
		u, ok = unitInfo{"time", 8760}, true
	}
	if !ok {
		return unitInfo{}, "", i, false
	}
	end := i
	if u.dim == "time" && (d.word(i+1) == "old" || d.word(i+1) == "gammal" || d.word(i+1) == "gamla") {
		return unitInfo{"age", 1}, "years old", i + 1, true
	}
	if d.isPunct(i+1, "/") && !d.toks[i+1].sp {
		next := d.word(i + 2)
		if perPeriod(next) == 1 {
			return u, w + "/d", i + 2, true // a daily total
		}
		if next != "" {
			// mmol/l, mg/ml, mg/kg: doses keep their numerator (40 mg/kg
			// compares as 40 mg), other compounds are units of their own
			end := i + 2
			for d.isPunct(end+1, "/") && d.word(end+2) != "" {
				end += 2
			}
			if u.dim == "mass" || u.dim == "units" || u.dim == "iu" {
				return u, w + "/" + next, end, true
			}
			return unitInfo{"u:" + w + "/" + next, 1}, w + "/" + next, end, true
		}
	}
	return u, w, end, true
}

func (c *Checker) quantities(d *doc, a *analysis) {
	n := len(d.toks)
	for i := 0; i < n; i++ {
		if d.used[i] {
			continue
		}
		t := d.toks[i]
		// "a week ago", "yhden viikon", "en vecka": an article before a unit
		if t.kind == tWord && isArticle(t.s) && !c.lex.stop[d.word(i+1)] || t.kind == tWord && isArticle(t.s) && d.word(i+1) == "day" {
			if u, name, end, ok := c.unitAt(d, i+1); ok && (u.dim == "time" || u.dim == "units") && name != "d" && name != "s" && name != "h" && name != "ar" && name != "man" {
				a.qtys = append(a.qtys, quantity{dim: u.dim, val: u.factor, raw: 1, tok: i, text: d.text(i, end)})
				for k := i; k <= end; k++ {
					d.used[k] = true
				}
				i = end
				continue
			}
		}
		if t.kind == tWord && d.lang == "fi" && fiOneTime[t.s] && (i == 0 || d.toks[i-1].kind != tNum && !isNumberish(c, d, i-1)) {
			if nx := d.word(i + 1); nx == "ajan" || nx == "ajaksi" || nx == "paasta" || nx == "kuluttua" || nx == "sitten" || nx == "ajalta" {
				u := c.units[t.s]
				a.qtys = append(a.qtys, quantity{dim: u.dim, val: u.factor, raw: 1, tok: i, text: d.text(i, i+1)})
				d.used[i], d.used[i+1] = true, true
				i++
				continue
			}
		}
		if t.kind != tNum && t.kind != tWord {
			continue
		}
		v, end, ok := c.numberAt(d, i)
		if !ok {
			continue
		}
		// a range "2-3 days", "2–3 vrk", "1 or 2 tablets"
		vals := []float64{v}
		j := end + 1
		if (d.isPunct(j, "-") || d.word(j) == "to" || d.word(j) == "or" || d.word(j) == "tai" || d.word(j) == "eller") && j+1 < n {
			if v2, end2, ok2 := c.numberAt(d, j+1); ok2 {
				if _, _, _, isU := c.unitAt(d, end2+1); isU {
					vals = append(vals, v2)
					end = end2
					j = end2 + 1
				}
			}
		}
		u, name, uend, isUnit := c.unitAt(d, j)
		if isUnit && name == "s" && j < n && !d.toks[j].sp {
			isUnit = false // "her 40s", "the 500s"
			end = j
		}
		// "1 tabl." written with a point, "500mg": both fine; "5 d" only after digits
		if isUnit && t.kind == tWord && len(name) == 1 {
			isUnit = false
		}
		if isUnit && (name == "ar" || name == "man") && d.lang != "sv" {
			isUnit = false
		}
		if isUnit && (u.dim == "mass" || u.dim == "units" || u.dim == "iu" || u.dim == "volume") {
			k := uend + 1
			if w := d.word(k); w == "a" || w == "per" || w == "om" || w == "i" || w == "an" {
				k++
			}
			if p := perPeriod(d.word(k)); p > 0 && !d.used[k] && d.word(k) != "d" && d.word(k) != "v" {
				a.freqs = append(a.freqs, freqItem{rate: p, tok: uend + 1, text: d.text(uend+1, k)})
				for x := uend + 1; x <= k; x++ {
					d.used[x] = true
				}
			}
		}
		if isUnit {
			for _, x := range vals {
				a.qtys = append(a.qtys, quantity{dim: u.dim, val: x * u.factor, raw: x, tok: i, text: d.text(i, uend)})
			}
			for k := i; k <= uend; k++ {
				d.used[k] = true
			}
			i = uend
			continue
		}
		// a bare number ("I'm 45", "BP 120/80", "seven out of ten"); a
		// list marker ("1.", "2)") at the start is none
		if t.kind == tNum && i == 0 && (n == 1 || d.isPunct(1, ".") || d.isPunct(1, ")")) {
			d.used[i] = true
			continue
		}
		soft := t.kind == tWord && (v == 1 || halfWord(t.s) || (t.s == "a" || t.s == "en") && v == 0.5)
		// "1 pack a day" for "a pack a day"; but "type 1", "grade 1" name a class
		if t.kind == tNum && v == 1 && d.word(end+1) != "" && !classWord[d.word(i-1)] {
			soft = true
		}
		for _, x := range vals {
			a.nums = append(a.nums, numItem{v: x, tok: i, text: d.text(i, end), word: soft})
		}
		for k := i; k <= end; k++ {
			d.used[k] = true
		}
		i = end
	}
}

// classWord precede a number that names a class, not a count.
var classWord = map[string]bool{"type": true, "tyypin": true, "tyyppi": true, "typ": true, "grade": true, "aste": true, "asteen": true,
	"stage": true, "vaihe": true, "stadium": true, "class": true, "luokka": true, "luokan": true, "klass": true, "nyha": true, "gold": true}

// opposite gives the direction opposite to each change.
var opposite = map[string]string{"start": "stop", "stop": "start", "continue": "stop", "increase": "decrease", "decrease": "increase",
	"worse": "better", "better": "worse"}

// directions links the drugs and findings of each clause part to the
// changes said of them there.
func (c *Checker) directions(d *doc, a *analysis, seg []int) {
	type dirAt struct {
		dir string
		tok int
	}
	var dirs []dirAt
	for _, w := range a.words {
		for _, cid := range w.concepts {
			id := c.lex.concepts[cid].id
			if _, ok := opposite[id]; ok && w.pol != polNeg {
				dirs = append(dirs, dirAt{id, w.tok})
			}
		}
	}
	if len(dirs) == 0 {
		return
	}
	for _, dr := range dirs {
		for _, m := range a.meds {
			if seg[m.tok] == seg[dr.tok] && (dr.dir == "start" || dr.dir == "stop" || dr.dir == "continue" || dr.dir == "increase" || dr.dir == "decrease") {
				a.links = append(a.links, link{subj: "m:" + medKey(m), dir: dr.dir, tok: dr.tok, text: d.text(min(m.tok, dr.tok), max(m.tok, dr.tok))})
			}
		}
		if dr.dir != "worse" && dr.dir != "better" {
			continue
		}
		for _, w := range a.words {
			if seg[w.tok] != seg[dr.tok] || w.kind != kindFinding {
				continue
			}
			for _, cid := range w.concepts {
				if c.lex.concepts[cid].kind == kindFinding {
					a.links = append(a.links, link{subj: "c:" + c.lex.concepts[cid].id, dir: dr.dir, tok: dr.tok, text: d.text(min(w.tok, dr.tok), max(w.tok, dr.tok))})
				}
			}
		}
	}
}

// fiOneTime are Finnish singular time words that mean "one" without a
// number ("viikon ajan", "kuukauden päästä", "vuoden sitten").
var fiOneTime = map[string]bool{"viikon": true, "viikoksi": true, "kuukauden": true, "kuukaudeksi": true, "vuoden": true, "vuodeksi": true,
	"vuorokauden": true, "paivan": true, "tunnin": true}

func isNumberish(c *Checker, d *doc, k int) bool {
	_, ok := c.numParser(d.lang).isNumberWord(d.word(k))
	return ok
}

// --- medications --------------------------------------------------------

func (c *Checker) medications(d *doc, a *analysis) {
	n := len(d.toks)
	for i := 0; i < n; i++ {
		if d.used[i] || d.toks[i].kind != tWord {
			continue
		}
		w := d.toks[i].s
		k := drugKey(w)
		matched := false
		for _, mn := range c.meds.multi[k] {
			j, ok := i, true
			for x, key := range mn.keys {
				for j < n && d.toks[j].kind == tPunct && d.toks[j].s == "-" {
					j++
				}
				if j >= n || d.toks[j].kind != tWord || (drugKey(d.toks[j].s) != key && !(x == len(mn.keys)-1 && strings.HasPrefix(drugKey(d.toks[j].s), key))) {
					ok = false
					break
				}
				j++
			}
			if ok {
				c.addMed(d, a, mn.atc, "", i, j-1)
				i = j - 1
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if c.lex.stop[w] {
			continue
		}
		if atc, ok := c.meds.lookupWord(w); ok {
			c.addMed(d, a, atc, "", i, i)
			continue
		}
		if looksLikeDrug(w) && !medicalTerm(w) && len(c.lex.wordConcepts(w, false, nil)) == 0 {
			c.addMed(d, a, "", k, i, i)
		}
	}
}

func (c *Checker) addMed(d *doc, a *analysis, atc, key string, from, to int) {
	p := polPos
	if d.neg[from] {
		p = polNeg
	}
	a.meds = append(a.meds, medItem{atc: atc, key: key, tok: from, pol: p, text: d.text(from, to)})
	for k := from; k <= to; k++ {
		d.used[k] = true
	}
}

// --- laterality ---------------------------------------------------------

// sideWord returns the side a folded word names, and whether the word is
// unambiguous (needs no body site nearby).
func sideWord(w, lang string) (byte, bool) {
	switch {
	case w == "left" || w == "lt" || w == "left-sided":
		return 'L', false
	case w == "l" || w == "vas" || (w == "sin" || w == "va") && lang != "en":
		return 'L', false
	case strings.HasPrefix(w, "vasem") || strings.HasPrefix(w, "vasen") || w == "vanster" || w == "vanstra" || strings.HasPrefix(w, "vanstersidig") || strings.HasPrefix(w, "sinist"):
		return 'L', true
	case w == "right" || w == "rt" || w == "r" || w == "oik" || (w == "dx" || w == "dxt" || w == "ho") && lang != "en":
		return 'R', false
	case strings.HasPrefix(w, "oikea") && w != "oikeastaan" && w != "oikeasti" || w == "oikean" || strings.HasPrefix(w, "oikeal") || strings.HasPrefix(w, "oikeas") && w != "oikeastaan" && w != "oikeasti":
		return 'R', false
	case strings.HasPrefix(w, "oikeanpuolei") || strings.HasPrefix(w, "oikeapuolei"):
		return 'R', true
	case strings.HasPrefix(w, "vasemmanpuolei") || strings.HasPrefix(w, "vasenpuolei"):
		return 'L', true
	case w == "hoger" || w == "hogra" || strings.HasPrefix(w, "hogersidig") || strings.HasPrefix(w, "dext"):
		return 'R', true
	case strings.HasPrefix(w, "bilat") || w == "both" || strings.HasPrefix(w, "molemm") || strings.HasPrefix(w, "molemp") || w == "bada" || w == "bagge" || strings.HasPrefix(w, "kummal") || strings.HasPrefix(w, "kummas") || w == "bilateral":
		return 'B', false
	}
	return 0, false
}

func (c *Checker) laterality(d *doc, a *analysis) {
	n := len(d.toks)
	for i := 0; i < n; i++ {
		if d.used[i] || d.toks[i].kind != tWord {
			continue
		}
		s, sure := sideWord(d.toks[i].s, d.lang)
		if s == 0 {
			continue
		}
		// a body site within three words after (or before: "knät på höger sida")
		body := uint16(noBody)
		for k := i + 1; k < n && k <= i+4 && d.clause[k] == d.clause[i]; k++ {
			if b, ok := c.bodyAt(d, k); ok {
				body = b
				break
			}
		}
		if body == noBody {
			for k := i - 1; k >= 0 && k >= i-3 && d.clause[k] == d.clause[i]; k-- {
				if b, ok := c.bodyAt(d, k); ok {
					body = b
					break
				}
			}
		}
		w := d.toks[i].s
		sideNoun := func(x string) bool {
			return x == "side" || x == "sided" || x == "puolella" || x == "puolelle" || x == "puoli" || x == "puolen" || x == "puolelta" || x == "sida" || x == "sidan" || x == "sidig"
		}
		if body == noBody && !sure {
			// "on the left", "oikealla puolella", "left-sided"
			nx := d.word(i + 1)
			if d.isPunct(i+1, "-") {
				nx = d.word(i + 2)
			}
			pv := d.word(i - 1)
			if !(sideNoun(nx) || (pv == "the" && (d.word(i-2) == "on" || d.word(i-2) == "to")) || strings.HasPrefix(w, "oikeal") || strings.HasPrefix(w, "vasemm")) {
				continue
			}
		}
		if len(w) <= 2 && body == noBody {
			continue // "l", "r", "dx" only next to a body site
		}
		a.sides = append(a.sides, sideItem{side: s, body: body, tok: i, text: d.text(i, i)})
		d.used[i] = true
	}
}

// bodyAt returns the body-site concept of word token k, if any.
func (c *Checker) bodyAt(d *doc, k int) (uint16, bool) {
	w := d.word(k)
	if w == "" || c.lex.stop[w] {
		return 0, false
	}
	var buf [4]uint16
	for _, cid := range c.lex.wordConcepts(w, d.lang != "en", buf[:0]) {
		if c.lex.concepts[cid].kind == kindBody {
			return cid, true
		}
	}
	return 0, false
}

// --- allergies ----------------------------------------------------------

func isAllergyCue(w string) bool {
	return strings.Contains(w, "allerg") || strings.HasPrefix(w, "yliherk") || strings.HasPrefix(w, "overkansl") ||
		w == "nkda" || w == "nka" || w == "nkfa" || strings.HasPrefix(w, "intoleran") || strings.HasPrefix(w, "anafyla") || strings.HasPrefix(w, "anaphyla")
}

// allergyFiller are words of allergy talk that name no allergen.
var allergyFiller = map[string]bool{"known": true, "drug": true, "drugs": true, "medication": true, "medications": true, "medicine": true,
	"medicines": true, "food": true, "any": true, "tiedettyja": true, "tiedossa": true, "tunnettuja": true, "laake": true, "laakeaine": true,
	"laakeaineallergiaa": true, "laakkeille": true, "kanda": true, "kand": true, "lakemedel": true, "lakemedelsallergi": true, "mot": true,
	"reaction": true, "reactions": true, "reaktio": true, "reaktion": true, "gives": true, "get": true, "gets": true, "got": true,
	"sai": true, "saa": true, "saanut": true, "fick": true, "far": true, "fatt": true, "noted": true, "history": true,
	"lakemedels": true, "oireena": true, "oire": true, "reaktiona": true, "allergies": true,
	"intolerance": true, "allergyintolerance": true, "severity": true, "type": true, "category": true, "medication:": true}

// intoleranceAt reports "tål inte", "en siedä", "can't tolerate" at i: an
// allergy said with a negation that must not deny it.
func intoleranceAt(d *doc, i int) bool {
	w := d.word(i)
	switch {
	case (w == "tal" || w == "taler") && d.word(i+1) == "inte":
		return d.lang == "sv"
	case w == "sieda" || w == "siedä" || w == "siedakaan":
		return d.lang == "fi"
	case w == "tolerate":
		p := d.word(i - 1)
		return p == "can't" || p == "cannot" || p == "not" || p == "don't"
	}
	return false
}

// reactionOf reports a finding that is an allergic reaction (rash, hives,
// itch, swelling, anaphylaxis).
func (c *Checker) reactionOf(w cword) bool {
	for _, cid := range w.concepts {
		switch c.lex.concepts[cid].id {
		case "rash", "itch", "allergy_symptom", "swelling":
			return true
		}
	}
	return false
}

func (c *Checker) allergies(d *doc, a *analysis) {
	n := len(d.toks)
	for i := 0; i < n; i++ {
		if d.toks[i].kind == tWord && intoleranceAt(d, i) {
			al := allergyItem{tok: i, text: d.text(i, min(i+1, n-1))}
			for _, m := range a.meds {
				if d.clause[m.tok] == d.clause[i] {
					al.meds = append(al.meds, medKey(m))
				}
			}
			a.allergies = append(a.allergies, al)
			continue
		}
		if d.toks[i].kind != tWord || !isAllergyCue(d.toks[i].s) {
			continue
		}
		w := d.toks[i].s
		al := allergyItem{tok: i, text: d.text(i, i)}
		d.used[i] = true
		cl := d.clause[i]
		neg := d.neg[i] || w == "nkda" || w == "nka" || w == "nkfa"
		// a heading ("Allergies: none", "Allergia: sulfa"): the next clause says it
		if d.isPunct(i+1, ":") && i+2 < n && d.clause[i+2] != cl {
			own := false
			for k := i + 2; k < n && d.clause[k] == d.clause[i+2]; k++ {
				own = own || d.toks[k].kind == tWord && isAllergyCue(d.toks[k].s)
			}
			if own {
				continue // "Allergi: inga kända läkemedelsallergier" is read at its own cue
			}
			cl = d.clause[i+2]
			for k := i + 2; k < n && k <= i+4; k++ {
				if c.isNegCue(d, k) {
					neg = true
				}
			}
		}
		if neg {
			al.pol = polNeg
		}
		// the allergen may be the compound's first part: penisilliiniallergia, pollenallergi
		if k := strings.Index(w, "allerg"); k >= 4 {
			pre := strings.TrimRight(w[:k], "-s")
			if atc, ok := c.meds.lookupWord(pre); ok {
				al.meds = append(al.meds, atc)
			} else if looksLikeDrug(pre) {
				al.meds = append(al.meds, drugKey(pre))
			} else if allergenLike(pre) {
				al.words = append(al.words, pre)
			} else if !allergyFiller[pre] && !allergyFiller[w[:k]] {
				al.words = append(al.words, pre)
			}
		}
		for _, m := range a.meds {
			if d.clause[m.tok] == cl {
				al.meds = append(al.meds, medKey(m))
			}
		}
		for k := 0; k < n; k++ {
			if d.clause[k] != cl || k == i || d.used[k] || d.toks[k].kind != tWord {
				continue
			}
			wk := d.toks[k].s
			if c.lex.stop[wk] || allergyFiller[wk] || isAllergyCue(wk) || c.isNegCue(d, k) || len(wk) < 3 {
				continue
			}
			// reactions (rash, hives, swelling) are findings, not allergens
			if c.lex.kindOf(c.lex.wordConcepts(wk, d.lang != "en", nil)) == kindFinding {
				continue
			}
			al.words = append(al.words, wk)
		}
		a.allergies = append(a.allergies, al)
	}
}

// --- content words ------------------------------------------------------

func (c *Checker) contentWords(d *doc, a *analysis) {
	n := len(d.toks)
	// note headings ("CARDIAC:", "Nykytila:", "Status:") are not content
	heading := make([]bool, n)
	for i := 0; i < n; i++ {
		if !d.isPunct(i, ":") || (i+1 < n && !d.toks[i+1].sp) {
			continue
		}
		words, k := 0, i-1
		for ; k >= 0 && d.clause[k] == d.clause[i]; k-- {
			if d.toks[k].kind == tWord {
				words++
			}
		}
		if words <= 6 {
			for x := k + 1; x < i; x++ {
				heading[x] = true
			}
		}
	}
	for i := 0; i < n; i++ {
		t := d.toks[i]
		if d.used[i] || t.kind != tWord {
			continue
		}
		w := t.s
		if c.isNegCue(d, i) || isAllergyCue(w) {
			continue
		}
		if heading[i] && !d.neg[i] {
			continue // "Tobacco:", "ENDOCRINE:" — but "Fever: none" is a denial
		}
		// multi-word forms: "short of breath", "blood pressure"
		if fs := c.lex.multi[w]; len(fs) > 0 {
			matched := false
			for _, f := range fs {
				j, ok := i, true
				for x, fw := range f.words {
					if j >= n || d.toks[j].kind == tNum {
						ok = false
						break
					}
					tw := d.toks[j].s
					if tw != fw && !(x == len(f.words)-1 && f.prefix && strings.HasPrefix(tw, fw)) {
						ok = false
						break
					}
					j++
				}
				if ok {
					p := polPos
					if d.neg[i] {
						p = polNeg
					}
					cs := []uint16{f.cid}
					if c.lex.concepts[f.cid].kind != kindOther {
						// "kidney disease" also names the kidney
						for k := i; k < j; k++ {
							for _, x := range c.lex.wordConcepts(d.toks[k].s, false, nil) {
								if c.lex.concepts[x].kind == kindBody {
									cs = appendUnique(cs, x)
								}
							}
						}
					}
					a.words = append(a.words, cword{text: d.text(i, j-1), w: strings.Join(f.words, " "), tok: i, concepts: cs, pol: p, kind: c.lex.concepts[f.cid].kind})
					for k := i; k < j; k++ {
						d.used[k] = true
					}
					i = j - 1
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		if (w == "om" || w == "omt" || w == "omma") && strings.HasPrefix(strings.ToLower(d.text(i, i)), "ö") {
			// Swedish "öm" (tender) folds onto "om" (if, about)
			p := polPos
			if d.neg[i] {
				p = polNeg
			}
			cid := c.lex.byID["pain"]
			a.words = append(a.words, cword{text: d.text(i, i), w: "omhet", tok: i, concepts: []uint16{cid}, pol: p, kind: kindFinding})
			continue
		}
		if c.lex.stop[w] || len(w) < 2 {
			continue
		}
		cs := c.lex.wordConcepts(w, d.lang != "en", nil)
		p := polPos
		if d.neg[i] {
			p = polNeg
		}
		if d.past[i] || strings.HasPrefix(w, "ex-") {
			p = polUnknown
		}
		// words that carry their own negation: afebrile, kuumeeton, feberfri, painless, kivuton
		if neg, base := ownNegation(w); neg {
			p = polNeg
			cs = c.lex.wordConcepts(base, d.lang != "en", cs[:0])
		}
		kind := c.lex.kindOf(cs)
		if len(cs) == 0 && len(w) < 3 {
			continue
		}
		if kind == 0 && medicalTerm(w) {
			kind = kindFinding // a diagnosis by its shape: pancreatitis, neuropatia, artros
		}
		a.words = append(a.words, cword{text: d.text(i, i), w: w, tok: i, concepts: cs, pol: p, kind: kind})
	}
}

// medicalTerm reports a word with the ending of a diagnosis or finding in
// Greek and Latin medical word formation (-itis, -osis, -emia, -algia,
// -pathy and their Finnish and Swedish spellings).
func medicalTerm(w string) bool {
	if len(w) < 7 {
		return false
	}
	for _, s := range []string{"itis", "iitti", "iitin", "osis", "oosi", "emia", "aemia", "algia", "algi", "opathy", "opatia", "opati",
		"ectomy", "ektomia", "ektomi", "otomy", "plasty", "oscopy", "skopia", "skopi", "uria", "penia", "cytosis", "megaly", "megalia",
		"rrhea", "rrhoea", "iasis", "iaasi", "oma", "ooma", "insufficiency", "insuffisienssi", "insufficiens", "stenosis", "stenoosi", "stenos"} {
		if strings.HasSuffix(w, s) || strings.HasSuffix(w, s+"a") || strings.HasSuffix(w, s+"n") || strings.HasSuffix(w, s+"s") {
			return !notMedical[w]
		}
	}
	return false
}

// notMedical are ordinary words with a medical-looking ending.
var notMedical = map[string]bool{"diploma": true, "aroma": true, "automa": true, "panorama": true, "dilemma": true, "academia": true, "diagnosis": true, "diagnoses": true,
	"prognosis": true, "diagnoosi": true, "diagnoosia": true, "diagnos": true, "diagnosen": true, "prognoosi": true}

// ownNegation recognises a word with a negating affix and returns its base.
func ownNegation(w string) (bool, string) {
	switch {
	case w == "afebrile" || w == "afebril" || w == "apyrexial":
		return true, "fever"
	case w == "asymptomatic" || w == "oireeton" || w == "symtomfri" || w == "besvarsfri" || w == "oireettomana":
		return true, "symptom"
	case w == "oom" || w == "oomt" || w == "ooma":
		return true, "pain" // Swedish "oöm": not tender
	case len(w) > 6 && (strings.HasSuffix(w, "ton") || strings.HasSuffix(w, "tomana") || strings.HasSuffix(w, "ttomuus") || strings.HasSuffix(w, "ttomasti")):
		// Finnish -ton/-tön: kuumeeton, kivuton, oireeton (but not "tunnottomuus", a finding)
		if strings.HasSuffix(w, "ttomuus") || strings.HasSuffix(w, "ttomasti") {
			return false, ""
		}
		base := strings.TrimSuffix(strings.TrimSuffix(w, "tomana"), "ton")
		return true, base
	case len(w) >= 7 && strings.HasPrefix(w, "non") && !strings.HasPrefix(w, "none"):
		return true, w[3:]
	case len(w) > 6 && strings.HasSuffix(w, "fri") && w != "sufri":
		return true, strings.TrimSuffix(w, "fri")
	case len(w) > 6 && strings.HasSuffix(w, "less") && w != "unless" && w != "regardless" && w != "nevertheless":
		return true, strings.TrimSuffix(w, "less")
	}
	return false, ""
}
