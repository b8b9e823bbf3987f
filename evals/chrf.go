package evals

import (
	"fmt"
	"strings"
)

// ChrFOptions are the settings of chrF (Popović 2015) as sacreBLEU 2.x
// defines them. DefaultChrF gives sacreBLEU's defaults (chrF2).
type ChrFOptions struct {
	CharOrder int     // maximum character n-gram order (default 6)
	WordOrder int     // maximum word n-gram order; 0 = chrF, 2 = chrF++
	Beta      float64 // recall is weighted Beta times as much as precision (default 2)
	Lowercase bool    // lower-case hypotheses and references first
	// KeepWhitespace keeps white space inside character n-grams (sacreBLEU
	// whitespace=True); by default all white space is removed first.
	KeepWhitespace bool
	// EpsSmoothing averages per-order F-scores with ε for empty orders
	// (chrF++.py / Moses behaviour) instead of sacreBLEU's default
	// effective-order averaging of precision and recall.
	EpsSmoothing bool
}

// DefaultChrF returns sacreBLEU's default chrF settings: character order
// 6, word order 0, β = 2, white space removed, no lower-casing, no ε
// smoothing.
func DefaultChrF() ChrFOptions { return ChrFOptions{CharOrder: 6, WordOrder: 0, Beta: 2} }

// ChrFStats are the summed n-gram counts of one or more segments: for
// each order (character orders 1..CharOrder, then word orders
// 1..WordOrder) the hypothesis n-gram count, the reference n-gram count and
// the clipped match count. Corpus chrF sums them over segments.
type ChrFStats struct {
	Hyp, Ref, Match []int
}

func (s *ChrFStats) add(o ChrFStats) {
	if s.Hyp == nil {
		s.Hyp, s.Ref, s.Match = make([]int, len(o.Hyp)), make([]int, len(o.Hyp)), make([]int, len(o.Hyp))
	}
	for i := range o.Hyp {
		s.Hyp[i] += o.Hyp[i]
		s.Ref[i] += o.Ref[i]
		s.Match[i] += o.Match[i]
	}
}

// SentenceChrF scores one hypothesis against its references (0–100).
// With several references the best-scoring one is used.
func SentenceChrF(hyp string, refs []string, o ChrFOptions) (float64, error) {
	streams := make([][]string, len(refs))
	for k, r := range refs {
		streams[k] = []string{r}
	}
	return CorpusChrF([]string{hyp}, streams, o)
}

// CorpusChrF is sacreBLEU's corpus_chrf (0–100). refs are reference
// streams: refs[k][i] is the k-th reference of hyps[i]; every stream must
// be as long as hyps. The definition:
//
//   - Each text is optionally lower-cased. Character n-grams (of Unicode
//     code points) are taken from the text with all white space removed
//     (unless KeepWhitespace). For chrF++ word n-grams are taken from the
//     white-space-split words, where a word longer than one character
//     ending (else starting) with an ASCII punctuation mark is split into
//     the word and the mark.
//   - Per segment and order: hyp = number of hypothesis n-grams, ref =
//     number of reference n-grams, match = Σ min(hyp count, ref count)
//     over distinct n-grams. Of several references, the one with the
//     highest segment score (first on ties) gives the segment's counts.
//   - Counts are summed over segments. Per order, precision P = match/hyp
//     and recall R = match/ref (ε = 1e-16 when the denominator is 0).
//   - Default: P and R are averaged over the orders with hyp > 0 and
//     ref > 0 (the effective order); the score is
//     100 · (1+β²)·P·R / (β²·P + R), or 0 when P+R = 0.
//   - EpsSmoothing: the score is 100 · mean over all orders of
//     (1+β²)·P·R / (β²·P + R), a term with a zero denominator being ε.
func CorpusChrF(hyps []string, refs [][]string, o ChrFOptions) (float64, error) {
	if o.CharOrder < 0 || o.WordOrder < 0 || o.CharOrder+o.WordOrder == 0 || o.Beta <= 0 {
		return 0, fmt.Errorf("evals.CorpusChrF: invalid options %+v", o)
	}
	if len(refs) == 0 {
		return 0, fmt.Errorf("evals.CorpusChrF: no references")
	}
	for k, s := range refs {
		if len(s) != len(hyps) {
			return 0, fmt.Errorf("evals.CorpusChrF: reference stream %d has %d segments, want %d", k, len(s), len(hyps))
		}
	}
	var total ChrFStats
	for i, h := range hyps {
		hg := chrfNgrams(h, o)
		var best ChrFStats
		bestF := -1.0
		for k := range refs {
			st := chrfMatch(hg, chrfNgrams(refs[k][i], o))
			if f := chrfScore(st, o); f > bestF {
				best, bestF = st, f
			}
		}
		total.add(best)
	}
	return chrfScore(total, o), nil
}

func chrfNgrams(s string, o ChrFOptions) []map[string]int {
	if o.Lowercase {
		s = strings.ToLower(s)
	}
	var out []map[string]int
	chars := []rune(s)
	if !o.KeepWhitespace {
		chars = []rune(strings.Join(strings.FieldsFunc(s, isPySpace), ""))
	}
	for n := 1; n <= o.CharOrder; n++ {
		m := map[string]int{}
		for i := 0; i+n <= len(chars); i++ {
			m[string(chars[i:i+n])]++
		}
		out = append(out, m)
	}
	if o.WordOrder > 0 {
		words := chrfWords(s)
		for n := 1; n <= o.WordOrder; n++ {
			m := map[string]int{}
			for i := 0; i+n <= len(words); i++ {
				// Words contain no white space, so a space joins them unambiguously.
				m[strings.Join(words[i:i+n], " ")]++
			}
			out = append(out, m)
		}
	}
	return out
}

const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func chrfWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, isPySpace) {
		rs := []rune(w)
		switch {
		case len(rs) == 1:
			out = append(out, w)
		case strings.ContainsRune(asciiPunct, rs[len(rs)-1]):
			out = append(out, string(rs[:len(rs)-1]), string(rs[len(rs)-1]))
		case strings.ContainsRune(asciiPunct, rs[0]):
			out = append(out, string(rs[0]), string(rs[1:]))
		default:
			out = append(out, w)
		}
	}
	return out
}

func chrfMatch(hyp, ref []map[string]int) ChrFStats {
	st := ChrFStats{Hyp: make([]int, len(hyp)), Ref: make([]int, len(hyp)), Match: make([]int, len(hyp))}
	for i := range hyp {
		for g, c := range hyp[i] {
			st.Hyp[i] += c
			st.Match[i] += min(c, ref[i][g])
		}
		for _, c := range ref[i] {
			st.Ref[i] += c
		}
	}
	return st
}

func chrfScore(st ChrFStats, o ChrFOptions) float64 {
	const eps = 1e-16
	factor := o.Beta * o.Beta
	var score, avgP, avgR float64
	eff := 0
	for i := range st.Hyp {
		p, r := eps, eps
		if st.Hyp[i] > 0 {
			p = float64(st.Match[i]) / float64(st.Hyp[i])
		}
		if st.Ref[i] > 0 {
			r = float64(st.Match[i]) / float64(st.Ref[i])
		}
		if den := factor*p + r; den > 0 {
			score += (1 + factor) * p * r / den
		} else {
			score += eps
		}
		if st.Hyp[i] > 0 && st.Ref[i] > 0 {
			avgP += p
			avgR += r
			eff++
		}
	}
	if o.EpsSmoothing {
		return 100 * score / float64(len(st.Hyp))
	}
	if eff == 0 {
		return 0
	}
	avgP /= float64(eff)
	avgR /= float64(eff)
	if avgP+avgR == 0 {
		return 0
	}
	return 100 * (1 + factor) * avgP * avgR / (factor*avgP + avgR)
}
