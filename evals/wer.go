package evals

import (
	"fmt"
	"strings"
	"unicode"
)

// EditCounts are the hits (H), substitutions (S), deletions (D) and
// insertions (I) of one alignment of hypothesis tokens against reference
// tokens, or their sum over several utterances. H+S+D is the number of
// reference tokens and H+S+I the number of hypothesis tokens.
type EditCounts struct {
	Hits, Substitutions, Deletions, Insertions int
}

// Add returns the sum of two counts.
func (c EditCounts) Add(o EditCounts) EditCounts {
	return EditCounts{c.Hits + o.Hits, c.Substitutions + o.Substitutions, c.Deletions + o.Deletions, c.Insertions + o.Insertions}
}

func (c EditCounts) errors() int { return c.Substitutions + c.Deletions + c.Insertions }

// ErrorRate is (S+D+I)/(H+S+D): the word error rate (WER) for word tokens
// and the character error rate (CER) for character tokens. It can exceed
// 1. With an empty reference (H+S+D = 0) it is I, the number of inserted
// tokens (jiwer 4 convention: 0 when both sides are empty).
func (c EditCounts) ErrorRate() float64 {
	n := c.Hits + c.Substitutions + c.Deletions
	if n == 0 {
		return float64(c.Insertions)
	}
	return float64(c.errors()) / float64(n)
}

// MER is the match error rate (S+D+I)/(H+S+D+I), 0 when both sides are
// empty.
func (c EditCounts) MER() float64 {
	n := c.Hits + c.errors()
	if n == 0 {
		return 0
	}
	return float64(c.errors()) / float64(n)
}

// WIP is the word information preserved, H/(H+S+D) · H/(H+S+I). It is 1
// when there is no error at all (also for two empty sides); otherwise a
// factor with a zero denominator counts as 0.
func (c EditCounts) WIP() float64 {
	if c.errors() == 0 {
		return 1
	}
	frac := func(h, n int) float64 {
		if n == 0 {
			return 0
		}
		return float64(h) / float64(n)
	}
	return frac(c.Hits, c.Hits+c.Substitutions+c.Deletions) * frac(c.Hits, c.Hits+c.Substitutions+c.Insertions)
}

// WIL is the word information lost, 1 − WIP.
func (c EditCounts) WIL() float64 { return 1 - c.WIP() }

// WordErrors aligns each hypothesis with the reference of the same index
// and sums the counts; ErrorRate of the result is the corpus WER as
// computed by jiwer 4 with its default word transform (see WERWords):
// utterance boundaries are kept, so words never align across utterances.
// refs and hyps must have the same length.
func WordErrors(refs, hyps []string) (EditCounts, error) {
	return alignAll(refs, hyps, WERWords)
}

// WordErrorsContiguous joins all references into one sentence and all
// hypotheses into another (separated by a space, like jiwer's
// ReduceToSingleSentence) and aligns the two; refs and hyps may differ in
// length.
func WordErrorsContiguous(refs, hyps []string) EditCounts {
	return alignTokens(WERWords(strings.Join(refs, " ")), WERWords(strings.Join(hyps, " ")))
}

// CharErrors is WordErrors for characters (Unicode code points), with
// jiwer 4's default CER transform: leading and trailing white space is
// stripped and every remaining code point, spaces included, is a token.
// ErrorRate of the result is the corpus CER.
func CharErrors(refs, hyps []string) (EditCounts, error) {
	return alignAll(refs, hyps, func(s string) []string {
		rs := []rune(strings.TrimFunc(s, isPySpace))
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = string(r)
		}
		return out
	})
}

// WERWords is jiwer 4's default word transform: every run of two or more
// white-space characters becomes one space, the text is stripped, and it
// is split on single spaces, dropping empty words. No case folding and no
// punctuation removal are done. White space is Python's (str.isspace).
func WERWords(s string) []string {
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if isPySpace(rs[i]) && i+1 < len(rs) && isPySpace(rs[i+1]) {
			for i+1 < len(rs) && isPySpace(rs[i+1]) {
				i++
			}
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(rs[i])
	}
	var out []string
	for _, w := range strings.Split(strings.TrimFunc(b.String(), isPySpace), " ") {
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// isPySpace is Python's str.isspace for one code point: Go's
// unicode.IsSpace plus the information separators U+001C–U+001F.
func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

func alignAll(refs, hyps []string, tokens func(string) []string) (EditCounts, error) {
	if len(refs) != len(hyps) {
		return EditCounts{}, fmt.Errorf("evals: %d references but %d hypotheses", len(refs), len(hyps))
	}
	var c EditCounts
	for i := range refs {
		c = c.Add(alignTokens(tokens(refs[i]), tokens(hyps[i])))
	}
	return c, nil
}

// alignTokens computes a minimum-edit (Levenshtein, unit costs) alignment
// and counts its operations. Among equally short alignments it picks the
// one rapidfuzz's Levenshtein.editops (used by jiwer) picks: the common
// prefix and suffix are matched first, and the back-trace from the end of
// the remaining middle prefers a deletion, then an insertion, then the
// diagonal (match or substitution).
func alignTokens(ref, hyp []string) EditCounts {
	var c EditCounts
	for len(ref) > 0 && len(hyp) > 0 && ref[0] == hyp[0] {
		ref, hyp = ref[1:], hyp[1:]
		c.Hits++
	}
	for len(ref) > 0 && len(hyp) > 0 && ref[len(ref)-1] == hyp[len(hyp)-1] {
		ref, hyp = ref[:len(ref)-1], hyp[:len(hyp)-1]
		c.Hits++
	}
	n, m := len(ref), len(hyp)
	// d[i][j] is the distance between ref[:i] and hyp[:j].
	d := make([][]int, n+1)
	for i := range d {
		d[i] = make([]int, m+1)
		d[i][0] = i
	}
	for j := 0; j <= m; j++ {
		d[0][j] = j
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			cost := 1
			if ref[i-1] == hyp[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
		}
	}
	i, j := n, m
	for i > 0 && j > 0 {
		switch {
		case d[i][j]-d[i-1][j] == 1: // vertical +1: deleting ref[i-1] is optimal
			c.Deletions++
			i--
		case j > 1 && d[i][j-1]-d[i-1][j-1] == -1: // rapidfuzz's VN test one column left
			c.Insertions++
			j--
		default:
			if ref[i-1] == hyp[j-1] {
				c.Hits++
			} else {
				c.Substitutions++
			}
			i--
			j--
		}
	}
	c.Deletions += i
	c.Insertions += j
	return c
}
