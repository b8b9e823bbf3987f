package evals

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// BLEU smoothing methods (sacreBLEU 2.x names).
const (
	SmoothExp   = "exp"   // NIST mteval-v13a geometric smoothing (sacreBLEU default)
	SmoothFloor = "floor" // a zero match count becomes SmoothValue
	SmoothAddK  = "add-k" // SmoothValue is added to matches and totals of orders ≥ 2
	SmoothNone  = "none"  // no smoothing
)

// BLEU tokenizers (sacreBLEU 2.x names). The CJK tokenizers (zh,
// ja-mecab, ko-mecab) are not implemented.
const (
	Tokenize13a  = "13a"  // mteval-v13a (sacreBLEU default)
	TokenizeNone = "none" // split on white space only
	TokenizeIntl = "intl" // mteval-v14 international: Unicode punctuation and symbols
	TokenizeChar = "char" // every non-space character is a token
)

// BLEUOptions are the settings of BLEU as sacreBLEU 2.x defines them.
// DefaultBLEU gives corpus_bleu's defaults, DefaultSentenceBLEU
// sentence_bleu's.
type BLEUOptions struct {
	Tokenize      string // Tokenize13a, TokenizeNone, TokenizeIntl or TokenizeChar
	Lowercase     bool   // lower-case every text before tokenizing
	MaxNgramOrder int    // highest n-gram order N (default 4)
	Smooth        string // SmoothExp, SmoothFloor, SmoothAddK or SmoothNone
	// SmoothValue is the floor (SmoothFloor) or k (SmoothAddK), used as
	// given; sacreBLEU's defaults are in DefaultSmoothValue. Ignored by
	// the other methods.
	SmoothValue float64
	// EffectiveOrder averages only over the orders up to the highest one
	// with a non-zero n-gram total (sacreBLEU effective_order).
	EffectiveOrder bool
}

// DefaultBLEU returns sacreBLEU's corpus BLEU defaults: 13a tokenizer,
// case-sensitive, N = 4, exp smoothing, no effective order.
func DefaultBLEU() BLEUOptions {
	return BLEUOptions{Tokenize: Tokenize13a, MaxNgramOrder: 4, Smooth: SmoothExp}
}

// DefaultSentenceBLEU returns sacreBLEU's sentence_bleu defaults: as
// DefaultBLEU but with EffectiveOrder.
func DefaultSentenceBLEU() BLEUOptions {
	o := DefaultBLEU()
	o.EffectiveOrder = true
	return o
}

// DefaultSmoothValue is sacreBLEU's default smooth_value of a method: 0.1
// for SmoothFloor, 1 for SmoothAddK, 0 (unused) otherwise.
func DefaultSmoothValue(method string) float64 {
	switch method {
	case SmoothFloor:
		return 0.1
	case SmoothAddK:
		return 1
	}
	return 0
}

func (o BLEUOptions) check() error {
	switch {
	case !slices.Contains([]string{Tokenize13a, TokenizeNone, TokenizeIntl, TokenizeChar}, o.Tokenize):
		return fmt.Errorf("evals: BLEU tokenizer %q not implemented (want 13a, none, intl or char)", o.Tokenize)
	case o.MaxNgramOrder < 1:
		return fmt.Errorf("evals: BLEU max n-gram order %d < 1", o.MaxNgramOrder)
	case o.Smooth != SmoothExp && o.Smooth != SmoothFloor && o.Smooth != SmoothAddK && o.Smooth != SmoothNone:
		return fmt.Errorf("evals: unknown BLEU smoothing %q", o.Smooth)
	}
	return nil
}

// BLEUStats are the summed counts of one or more segments: hypothesis
// length, effective reference length, and per order n = 1..N the clipped
// n-gram matches Correct[n-1] and the hypothesis n-gram count Total[n-1].
type BLEUStats struct {
	HypLen, RefLen int
	Correct, Total []int
}

// SentenceBLEU scores one hypothesis against its references (0–100); it
// is CorpusBLEU of a one-segment corpus. Use DefaultSentenceBLEU for
// sacreBLEU's sentence_bleu.
func SentenceBLEU(hyp string, refs []string, o BLEUOptions) (float64, error) {
	streams := make([][]string, len(refs))
	for k, r := range refs {
		streams[k] = []string{r}
	}
	return CorpusBLEU([]string{hyp}, streams, o)
}

// CorpusBLEU is sacreBLEU 2.x corpus_bleu (0–100): BLEUStatistics
// followed by ScoreBLEU. refs are reference streams: refs[k][i] is the
// k-th reference of hyps[i].
func CorpusBLEU(hyps []string, refs [][]string, o BLEUOptions) (float64, error) {
	st, err := BLEUStatistics(hyps, refs, o)
	if err != nil {
		return 0, err
	}
	return ScoreBLEU(st, o)
}

// BLEUStatistics counts n-grams as sacreBLEU 2.x does:
//
//   - Every stream must be as long as hyps. An empty reference string
//     means "no reference" for that segment (variable reference counts);
//     every segment needs at least one reference.
//   - Each text is optionally lower-cased, its trailing white space is
//     removed, it is tokenized (Tokenize13a: see Tokenize13aString;
//     TokenizeIntl: TokenizeIntlString; TokenizeChar: every character
//     separated; TokenizeNone: unchanged) and split on white space.
//   - Per segment with h hypothesis tokens: HypLen += h; RefLen += the
//     reference length closest to h (the shorter one on ties);
//     Total[n-1] += max(0, h-n+1); Correct[n-1] += Σ over distinct
//     hypothesis n-grams g of min(count of g in the hypothesis, the
//     highest count of g in any one reference).
func BLEUStatistics(hyps []string, refs [][]string, o BLEUOptions) (BLEUStats, error) {
	if err := o.check(); err != nil {
		return BLEUStats{}, err
	}
	if len(refs) == 0 {
		return BLEUStats{}, fmt.Errorf("evals.BLEUStatistics: no references")
	}
	for k, s := range refs {
		if len(s) != len(hyps) {
			return BLEUStats{}, fmt.Errorf("evals.BLEUStatistics: reference stream %d has %d segments, want %d", k, len(s), len(hyps))
		}
	}
	st := BLEUStats{Correct: make([]int, o.MaxNgramOrder), Total: make([]int, o.MaxNgramOrder)}
	for i, h := range hyps {
		ht := bleuTokens(h, o)
		refMax := map[string]int{}
		closest, closestDiff := -1, -1
		for k := range refs {
			if refs[k][i] == "" {
				continue
			}
			rt := bleuTokens(refs[k][i], o)
			diff := len(ht) - len(rt)
			if diff < 0 {
				diff = -diff
			}
			if closestDiff == -1 || diff < closestDiff || (diff == closestDiff && len(rt) < closest) {
				closest, closestDiff = len(rt), diff
			}
			for g, c := range bleuNgrams(rt, o.MaxNgramOrder) {
				refMax[g] = max(refMax[g], c)
			}
		}
		if closest < 0 {
			return BLEUStats{}, fmt.Errorf("evals.BLEUStatistics: segment %d has no reference", i)
		}
		st.HypLen += len(ht)
		st.RefLen += closest
		for n := 1; n <= o.MaxNgramOrder; n++ {
			st.Total[n-1] += max(0, len(ht)-n+1)
		}
		for g, c := range bleuNgrams(ht, o.MaxNgramOrder) {
			// Tokens hold no white space, so the number of spaces gives the order.
			st.Correct[strings.Count(g, " ")] += min(c, refMax[g])
		}
	}
	return st, nil
}

func bleuTokens(s string, o BLEUOptions) []string {
	if o.Lowercase {
		s = strings.ToLower(s)
	}
	s = strings.TrimRightFunc(s, isPySpace)
	switch o.Tokenize {
	case Tokenize13a:
		s = Tokenize13aString(s)
	case TokenizeIntl:
		s = TokenizeIntlString(s)
	case TokenizeChar:
		var toks []string
		for _, r := range s {
			if !isPySpace(r) {
				toks = append(toks, string(r))
			}
		}
		return toks
	}
	return strings.FieldsFunc(s, isPySpace)
}

// bleuNgrams counts the n-grams of orders 1..maxOrder, joined by a space.
func bleuNgrams(toks []string, maxOrder int) map[string]int {
	m := map[string]int{}
	for n := 1; n <= maxOrder; n++ {
		for i := 0; i+n <= len(toks); i++ {
			m[strings.Join(toks[i:i+n], " ")]++
		}
	}
	return m
}

var tok13a = []struct {
	re   *regexp.Regexp
	repl string
}{
	// ASCII punctuation and symbols except ' , - . (and space).
	{regexp.MustCompile(`([\{-\~\[-\x60 -\&\(-\+\:-\@\/])`), " ${1} "},
	{regexp.MustCompile(`([^0-9])([\.,])`), "${1} ${2} "},
	{regexp.MustCompile(`([\.,])([^0-9])`), " ${1} ${2}"},
	{regexp.MustCompile(`([0-9])(-)`), "${1} ${2} "},
}

// Tokenize13aString is sacreBLEU's 13a tokenizer (mteval-v13a): remove
// "<skipped>", join "-\n" line breaks, turn other "\n" into spaces,
// unescape &quot; &amp; &lt; &gt; (in that order), pad with a space, then
// apply in turn (each a left-to-right, non-overlapping replacement):
// surround every ASCII punctuation or symbol character other than
// ' , - . with spaces; split "." and "," from a preceding non-digit; split
// them from a following non-digit; split "-" from a preceding digit.
// Finally runs of white space become one space and the ends are trimmed.
func Tokenize13aString(s string) string {
	s = strings.ReplaceAll(s, "<skipped>", "")
	s = strings.ReplaceAll(s, "-\n", "")
	s = strings.ReplaceAll(s, "\n", " ")
	if strings.Contains(s, "&") {
		s = strings.ReplaceAll(s, "&quot;", `"`)
		s = strings.ReplaceAll(s, "&amp;", "&")
		s = strings.ReplaceAll(s, "&lt;", "<")
		s = strings.ReplaceAll(s, "&gt;", ">")
	}
	s = " " + s + " "
	for _, r := range tok13a {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return strings.Join(strings.FieldsFunc(s, isPySpace), " ")
}

var tokIntl = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(\P{N})(\p{P})`), "${1} ${2} "},
	{regexp.MustCompile(`(\p{P})(\P{N})`), " ${1} ${2}"},
	{regexp.MustCompile(`(\p{S})`), " ${1} "},
}

// TokenizeIntlString is sacreBLEU's intl tokenizer (mteval-v14
// --international-tokenization), applying in turn, each a left-to-right,
// non-overlapping replacement over Unicode categories: split a
// punctuation character (P) from a preceding character that is not a
// number (N); split a punctuation character from a following non-number;
// surround every symbol (S) with spaces. Runs of white space then become
// one space and the ends are trimmed. Unlike 13a it keeps "3.5" and
// "1,000" whole and splits non-ASCII punctuation such as « » and 。.
func TokenizeIntlString(s string) string {
	for _, r := range tokIntl {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return strings.Join(strings.FieldsFunc(s, isPySpace), " ")
}

// ScoreBLEU is sacreBLEU 2.x compute_bleu (0–100) on summed counts
// (len(Correct) = len(Total) = MaxNgramOrder = N):
//
//   - If every Correct[n-1] is 0, BLEU is 0 (whatever the smoothing).
//   - For n = 1..N in turn: with SmoothAddK and n ≥ 2, add k =
//     SmoothValue to Correct[n-1] and Total[n-1]. If Total[n-1] is then 0,
//     stop (p_n for this and higher orders stays 0). Otherwise the
//     effective order becomes n (with EffectiveOrder), and p_n =
//     100·Correct/Total; if Correct is 0, p_n is instead
//     100/(2^z·Total) with z the number of zero-match orders so far
//     (SmoothExp), 100·SmoothValue/Total (SmoothFloor) or 0.
//   - Brevity penalty BP = exp(1 − RefLen/HypLen) when HypLen < RefLen
//     (0 when HypLen = 0), else 1.
//   - BLEU = BP · exp((1/E) Σ_{n=1..E} log p_n), E = the effective order
//     with EffectiveOrder, else N; log 0 counts as −9999999999, so any
//     p_n = 0 gives 0.
func ScoreBLEU(st BLEUStats, o BLEUOptions) (float64, error) {
	if err := o.check(); err != nil {
		return 0, err
	}
	n := o.MaxNgramOrder
	if len(st.Correct) != n || len(st.Total) != n {
		return 0, fmt.Errorf("evals.ScoreBLEU: %d/%d counts for max order %d", len(st.Correct), len(st.Total), n)
	}
	if !slices.ContainsFunc(st.Correct, func(c int) bool { return c != 0 }) {
		return 0, nil
	}
	prec := make([]float64, n)
	smoothExp := 1.0
	eff := n
	for i := range n {
		correct, total := float64(st.Correct[i]), float64(st.Total[i])
		if o.Smooth == SmoothAddK && i > 0 {
			correct += o.SmoothValue
			total += o.SmoothValue
		}
		if total == 0 {
			break
		}
		if o.EffectiveOrder {
			eff = i + 1
		}
		switch {
		case correct != 0:
			prec[i] = 100 * correct / total
		case o.Smooth == SmoothExp:
			smoothExp *= 2
			prec[i] = 100 / (smoothExp * total)
		case o.Smooth == SmoothFloor:
			prec[i] = 100 * o.SmoothValue / total
		}
	}
	bp := 1.0
	if st.HypLen < st.RefLen {
		bp = 0
		if st.HypLen > 0 {
			bp = math.Exp(1 - float64(st.RefLen)/float64(st.HypLen))
		}
	}
	var sum float64
	for _, p := range prec[:eff] {
		if p == 0 {
			sum += -9999999999
		} else {
			sum += math.Log(p)
		}
	}
	return bp * math.Exp(sum/float64(eff)), nil
}
