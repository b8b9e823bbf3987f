package evals

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// RougeScore is the precision, recall and F-measure of one ROUGE type.
type RougeScore struct {
	Precision, Recall, FMeasure float64
}

func newRougeScore(p, r float64) RougeScore {
	f := 0.0
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return RougeScore{p, r, f}
}

// RougeOptions choose the tokenizer of RougeWith.
type RougeOptions struct {
	// Stem applies PorterStem to every token longer than three
	// characters (rouge_score use_stemmer=True). Porter's rules are for
	// English; with Unicode, only tokens of ASCII letters and digits are
	// stemmed.
	Stem bool
	// Unicode selects RougeTokensUnicode instead of rouge_score's
	// English-only tokenizer: needed for Finnish, Swedish and every
	// non-Latin script.
	Unicode bool
}

// RougeTokens is the rouge-score package's default tokenizer without
// stemming: the text is lower-cased, every run of characters other than
// ASCII a–z and 0–9 becomes a separator, and the remaining runs are the
// tokens. It is English-only: letters such as ä, ö, å and all non-Latin
// scripts are dropped. Use RougeTokensUnicode for other languages.
func RougeTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// RougeTokensUnicode is the Unicode-aware counterpart of RougeTokens: the
// text is lower-cased (Unicode simple case mapping), every run of
// characters that are not letters, marks or digits (Unicode categories L,
// M, N) becomes a separator, and the remaining runs are the tokens. So
// "Verenpainelääkitys: 5 mg" gives [verenpainelääkitys 5 mg] and Arabic,
// Cyrillic or Somali words are kept whole. On ASCII text it gives exactly
// RougeTokens's tokens. It does not split compounds and does not segment
// scripts written without spaces (Chinese, Japanese, Thai).
func RougeTokensUnicode(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r))
	})
}

func (o RougeOptions) tokens(s string) []string {
	var toks []string
	if o.Unicode {
		toks = RougeTokensUnicode(s)
	} else {
		toks = RougeTokens(s)
	}
	if o.Stem {
		for i, t := range toks {
			if len(t) > 3 && isASCIIAlnum(t) {
				toks[i] = PorterStem(t)
			}
		}
	}
	return toks
}

func isASCIIAlnum(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Rouge is RougeWith with rouge_score's defaults: English tokenizer, no
// stemming.
func Rouge(rougeType, target, prediction string) (RougeScore, error) {
	return RougeWith(rougeType, target, prediction, RougeOptions{})
}

// RougeWith scores prediction against target (the reference) for one
// ROUGE type, with google-research rouge_score semantics
// (split_summaries=False) and the tokenizer o selects:
//
//   - "rougeN" (N ≥ 1): with the multisets of token N-grams of target and
//     prediction, overlap = Σ min(count in target, count in prediction);
//     P = overlap / max(#prediction N-grams, 1), R = overlap /
//     max(#target N-grams, 1).
//   - "rougeL": L = length of the longest common subsequence of the two
//     token sequences; P = L / #prediction tokens, R = L / #target tokens
//     (all 0 if either side has no tokens).
//   - "rougeLsum": summary-level LCS. Both texts are split into sentences
//     on "\n" (empty lines dropped) and tokenised per sentence. For each
//     target sentence, the union of the target positions in its LCS with
//     each prediction sentence is taken (LCS back-trace from the end,
//     preferring a step in the prediction when that keeps a strictly
//     longer LCS); each token of that union is a hit if it is still
//     available in both texts' token counts, which it then consumes.
//     P = hits / #prediction tokens, R = hits / #target tokens.
//
// In every case F = 2PR/(P+R), or 0 when P+R = 0.
func RougeWith(rougeType, target, prediction string, o RougeOptions) (RougeScore, error) {
	switch {
	case rougeType == "rougeL":
		return rougeL(o.tokens(target), o.tokens(prediction)), nil
	case rougeType == "rougeLsum":
		return rougeLsum(o.sentences(target), o.sentences(prediction)), nil
	case strings.HasPrefix(rougeType, "rouge"):
		n, err := strconv.Atoi(rougeType[len("rouge"):])
		if err != nil || n < 1 || n > 9 {
			break
		}
		return rougeN(o.tokens(target), o.tokens(prediction), n), nil
	}
	return RougeScore{}, fmt.Errorf("evals.Rouge: unknown ROUGE type %q", rougeType)
}

func (o RougeOptions) sentences(s string) [][]string {
	var out [][]string
	for _, line := range strings.Split(s, "\n") {
		if line != "" {
			out = append(out, o.tokens(line))
		}
	}
	return out
}

func rougeN(target, pred []string, n int) RougeScore {
	grams := func(toks []string) (map[string]int, int) {
		m := map[string]int{}
		total := 0
		for i := 0; i+n <= len(toks); i++ {
			m[strings.Join(toks[i:i+n], " ")]++ // tokens hold no white space, so a space is a safe separator
			total++
		}
		return m, total
	}
	tg, tn := grams(target)
	pg, pn := grams(pred)
	overlap := 0
	for g, c := range tg {
		overlap += min(c, pg[g])
	}
	return newRougeScore(float64(overlap)/float64(max(pn, 1)), float64(overlap)/float64(max(tn, 1)))
}

func rougeL(target, pred []string) RougeScore {
	if len(target) == 0 || len(pred) == 0 {
		return RougeScore{}
	}
	t := lcsTable(target, pred)
	l := float64(t[len(target)][len(pred)])
	return newRougeScore(l/float64(len(pred)), l/float64(len(target)))
}

func rougeLsum(target, pred [][]string) RougeScore {
	m, n := 0, 0
	refCount, predCount := map[string]int{}, map[string]int{}
	for _, s := range target {
		m += len(s)
		for _, tok := range s {
			refCount[tok]++
		}
	}
	for _, s := range pred {
		n += len(s)
		for _, tok := range s {
			predCount[tok]++
		}
	}
	if m == 0 || n == 0 {
		return RougeScore{}
	}
	hits := 0
	for _, r := range target {
		for _, tok := range unionLCS(r, pred) {
			if predCount[tok] > 0 && refCount[tok] > 0 {
				hits++
				predCount[tok]--
				refCount[tok]--
			}
		}
	}
	return newRougeScore(float64(hits)/float64(n), float64(hits)/float64(m))
}

// lcsTable returns t with t[i][j] = LCS length of ref[:i] and can[:j].
func lcsTable[T comparable](ref, can []T) [][]int {
	t := make([][]int, len(ref)+1)
	for i := range t {
		t[i] = make([]int, len(can)+1)
	}
	for i := 1; i <= len(ref); i++ {
		for j := 1; j <= len(can); j++ {
			if ref[i-1] == can[j-1] {
				t[i][j] = t[i-1][j-1] + 1
			} else {
				t[i][j] = max(t[i-1][j], t[i][j-1])
			}
		}
	}
	return t
}

// lcsIndices returns the positions in ref of one LCS of ref and can, in
// rouge_score's back-trace order.
func lcsIndices[T comparable](ref, can []T) []int {
	t := lcsTable(ref, can)
	out := []int{}
	i, j := len(ref), len(can)
	for i > 0 && j > 0 {
		switch {
		case ref[i-1] == can[j-1]:
			out = append(out, i-1)
			i--
			j--
		case t[i][j-1] > t[i-1][j]:
			j--
		default:
			i--
		}
	}
	slices.Reverse(out)
	return out
}

// unionLCSIndices is the sorted union of ref positions of the LCS of ref
// with each candidate sentence.
func unionLCSIndices[T comparable](ref []T, cans [][]T) []int {
	var lists [][]int
	for _, c := range cans {
		lists = append(lists, lcsIndices(ref, c))
	}
	return sortedUnion(lists)
}

func sortedUnion(lists [][]int) []int {
	var all []int
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

func unionLCS[T comparable](ref []T, cans [][]T) []T {
	var out []T
	for _, i := range unionLCSIndices(ref, cans) {
		out = append(out, ref[i])
	}
	return out
}
