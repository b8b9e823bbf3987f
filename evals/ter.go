package evals

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// TEROptions are sacreBLEU 2.x TER settings. Only the defaults'
// tokenization is implemented: case-insensitive unless CaseSensitive,
// split on white space (no tercom normalisation, punctuation kept, no
// Asian-script support).
type TEROptions struct {
	CaseSensitive bool
}

// TERStats are summed edit counts: Edits (shifts + insertions, deletions
// and substitutions) and RefLen (the references' average length per
// segment, summed).
type TERStats struct {
	Edits  float64
	RefLen float64
}

// Score is TER on a 0–1 scale: Edits/RefLen; with RefLen 0 it is 1 if
// there are edits, else 0.
func (s TERStats) Score() float64 {
	switch {
	case s.RefLen > 0:
		return s.Edits / s.RefLen
	case s.Edits > 0:
		return 1
	}
	return 0
}

// CorpusTER is sacreBLEU 2.x TER().corpus_score(...).score / 100 (so a
// 0–1 value, lower is better). refs are reference streams as for
// CorpusBLEU. Per segment, every text is lower-cased (unless
// CaseSensitive) and split on white space; the edits are the fewest of
// TranslationEdits over its references and the reference length is the
// references' average length; edits and lengths are summed over the
// corpus and divided (TERStats.Score).
func CorpusTER(hyps []string, refs [][]string, o TEROptions) (float64, error) {
	st, err := TERStatistics(hyps, refs, o)
	if err != nil {
		return 0, err
	}
	return st.Score(), nil
}

// TERStatistics sums the per-segment counts CorpusTER divides.
func TERStatistics(hyps []string, refs [][]string, o TEROptions) (TERStats, error) {
	if len(refs) == 0 {
		return TERStats{}, fmt.Errorf("evals.TERStatistics: no references")
	}
	for k, s := range refs {
		if len(s) != len(hyps) {
			return TERStats{}, fmt.Errorf("evals.TERStatistics: reference stream %d has %d segments, want %d", k, len(s), len(hyps))
		}
	}
	tok := func(s string) []string {
		if !o.CaseSensitive {
			s = strings.ToLower(s)
		}
		return strings.FieldsFunc(s, isPySpace)
	}
	var st TERStats
	for i, h := range hyps {
		hw := tok(h)
		best, sumLen := math.MaxInt, 0
		for k := range refs {
			rw := tok(refs[k][i])
			best = min(best, TranslationEdits(hw, rw))
			sumLen += len(rw)
		}
		st.Edits += float64(best)
		st.RefLen += float64(sumLen) / float64(len(refs))
	}
	return st, nil
}

// Limits of tercom's greedy shift search, as sacreBLEU sets them.
const (
	terMaxShiftSize       = 10
	terMaxShiftDist       = 50
	terMaxShiftCandidates = 1000
	terBeamWidth          = 25
)

// TranslationEdits is the number of edits of the Translation Edit Rate
// (Snover et al., 2006) that turn hyp into ref, computed as tercom and
// sacreBLEU do: repeatedly apply the block shift (a run of up to 10
// words, moved at most 50 positions, that matches the reference where the
// hypothesis was wrong) that most reduces the word edit distance (ties:
// the longest run, then the earliest in the hypothesis, then the earliest
// target), each shift costing 1, until no shift helps or 1,000 shift
// candidates have been tried; then add the beam-limited (width 25)
// Levenshtein distance. With an empty reference it is len(hyp).
func TranslationEdits(hyp, ref []string) int {
	if len(ref) == 0 {
		return len(hyp)
	}
	ed := terEditDistance{ref: ref}
	shifts, checked := 0, 0
	words := hyp
	for {
		delta, shifted, c := ed.shift(words, checked)
		checked = c
		if checked >= terMaxShiftCandidates || delta <= 0 {
			break
		}
		shifts++
		words = shifted
	}
	d, _ := ed.distance(words)
	return shifts + d
}

// Edit operations, as seen rewriting the hypothesis into the reference.
const (
	opNop = ' '
	opSub = 's'
	opIns = 'i' // a reference word inserted
	opDel = 'd' // a hypothesis word deleted
)

type terEditDistance struct{ ref []string }

type terCell struct {
	cost int
	op   byte
}

// distance is the Levenshtein distance from hyp to ref computed within a
// beam around the diagonal, with its operations (ties prefer a match or
// substitution, then a deletion, then an insertion).
func (e terEditDistance) distance(hyp []string) (int, []byte) {
	nh, nr := len(hyp), len(e.ref)
	const inf = math.MaxInt / 4
	rows := make([][]terCell, nh+1)
	rows[0] = make([]terCell, nr+1)
	for j := range rows[0] {
		rows[0][j] = terCell{j, opIns}
	}
	ratio := 1.0
	if nh > 0 {
		ratio = float64(nr) / float64(nh)
	}
	beam := terBeamWidth
	if float64(terBeamWidth) < ratio/2 {
		beam = int(math.Ceil(ratio/2 + terBeamWidth))
	}
	for i := 1; i <= nh; i++ {
		diag := int(math.Floor(float64(i) * ratio))
		lo, hi := max(0, diag-beam), min(nr+1, diag+beam)
		if i == nh {
			hi = nr + 1
		}
		row := make([]terCell, nr+1)
		for j := range row {
			row[j] = terCell{inf, 'x'}
		}
		prev := rows[i-1]
		for j := lo; j < hi; j++ {
			if j == 0 {
				row[j] = terCell{prev[0].cost + 1, opDel}
				continue
			}
			sub, op := 1, byte(opSub)
			if hyp[i-1] == e.ref[j-1] {
				sub, op = 0, opNop
			}
			for _, c := range [3]terCell{{prev[j-1].cost + sub, op}, {prev[j].cost + 1, opDel}, {row[j-1].cost + 1, opIns}} {
				if row[j].cost > c.cost {
					row[j] = c
				}
			}
		}
		rows[i] = row
	}
	var trace []byte
	for i, j := nh, nr; i > 0 || j > 0; {
		op := rows[i][j].op
		trace = append(trace, op)
		switch op {
		case opNop, opSub:
			i--
			j--
		case opIns:
			j--
		default:
			i--
		}
	}
	slices.Reverse(trace)
	return rows[nh][nr].cost, trace
}

// alignment reads a trace the other way round (rewriting the reference
// into the hypothesis): align maps a reference position to a hypothesis
// position; refErr and hypErr mark the words not matched.
func alignment(trace []byte) (align map[int]int, refErr, hypErr []bool) {
	align = map[int]int{}
	ph, pr := -1, -1
	for _, op := range trace {
		switch op {
		case opNop, opSub:
			ph++
			pr++
			align[pr] = ph
			hypErr = append(hypErr, op == opSub)
			refErr = append(refErr, op == opSub)
		case opDel: // seen from the reference: a hypothesis word inserted
			ph++
			hypErr = append(hypErr, true)
		case opIns: // a reference word deleted
			pr++
			align[pr] = ph
			refErr = append(refErr, true)
		}
	}
	return align, refErr, hypErr
}

func anyTrue(b []bool) bool { return slices.Contains(b, true) }

// shift finds the best block shift of words; it returns the reduction in
// edit distance (≤ 0: none helps), the shifted words and the running count
// of candidates tried.
func (e terEditDistance) shift(words []string, checked int) (int, []string, int) {
	pre, trace := e.distance(words)
	align, refErr, hypErr := alignment(trace)
	type cand struct{ gain, length, startH, idx int }
	var best *cand
	var bestWords []string
	better := func(c cand) bool {
		if best == nil {
			return true
		}
		// Highest gain, then longest, then earliest start, then earliest target.
		if c.gain != best.gain {
			return c.gain > best.gain
		}
		if c.length != best.length {
			return c.length > best.length
		}
		if c.startH != best.startH {
			return c.startH < best.startH
		}
		return c.idx < best.idx
	}
	nh, nr := len(words), len(e.ref)
outer:
	for sh := range nh {
		for sr := range nr {
			if abs(sr-sh) > terMaxShiftDist {
				continue
			}
			for length := 1; length <= terMaxShiftSize && sh+length <= nh && sr+length <= nr && words[sh+length-1] == e.ref[sr+length-1]; length++ {
				if !anyTrue(hypErr[sh:sh+length]) || !anyTrue(refErr[sr:sr+length]) {
					continue
				}
				if a := align[sr]; sh <= a && a < sh+length {
					continue
				}
				prevIdx := -1
				for off := -1; off < length; off++ {
					var idx int
					if sr+off == -1 {
						idx = 0
					} else if a, ok := align[sr+off]; ok {
						idx = a + 1
					} else {
						break
					}
					if idx == prevIdx {
						continue
					}
					prevIdx = idx
					shifted := performShift(words, sh, length, idx)
					d, _ := e.distance(shifted)
					checked++
					if c := (cand{pre - d, length, sh, idx}); better(c) {
						best, bestWords = &c, shifted
					}
				}
				if checked >= terMaxShiftCandidates {
					break outer
				}
			}
		}
	}
	if best == nil {
		return 0, words, checked
	}
	return best.gain, bestWords, checked
}

// performShift moves words[start:start+length] so that it begins before
// the word at target (positions counted in the original sequence).
func performShift(w []string, start, length, target int) []string {
	out := make([]string, 0, len(w))
	switch {
	case target < start:
		out = append(out, w[:target]...)
		out = append(out, w[start:start+length]...)
		out = append(out, w[target:start]...)
		out = append(out, w[start+length:]...)
	case target > start+length:
		out = append(out, w[:start]...)
		out = append(out, w[start+length:target]...)
		out = append(out, w[start:start+length]...)
		out = append(out, w[target:]...)
	default:
		out = append(out, w[:start]...)
		out = append(out, w[start+length:length+target]...)
		out = append(out, w[start:start+length]...)
		out = append(out, w[length+target:]...)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
