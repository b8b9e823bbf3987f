package retrieval

import "sort"

// DefaultRRFK is the rank constant of reciprocal rank fusion (Cormack et
// al. 2009): large enough that one list's top hit cannot drown the other.
const DefaultRRFK = 60

// Fused is one item of a reciprocal-rank-fused list.
type Fused struct {
	ID    int64
	Score float64 // sum over lists of 1/(k + rank)
	Ranks []int   // 1-based rank in each input list, 0 when absent
}

// FuseRRF merges ranked lists of ids (best first) by reciprocal rank
// fusion: score(d) = Σ 1/(k + rank_i(d)). Ties are broken by the best
// single rank, then by the id, so the order is deterministic. k <= 0 means
// DefaultRRFK. Duplicates within one list count at their first rank.
func FuseRRF(k int, lists ...[]int64) []Fused {
	if k <= 0 {
		k = DefaultRRFK
	}
	byID := map[int64]*Fused{}
	var order []*Fused
	for li, list := range lists {
		for r, id := range list {
			f := byID[id]
			if f == nil {
				f = &Fused{ID: id, Ranks: make([]int, len(lists))}
				byID[id] = f
				order = append(order, f)
			}
			if f.Ranks[li] != 0 {
				continue
			}
			f.Ranks[li] = r + 1
			f.Score += 1 / float64(k+r+1)
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if ba, bb := bestRank(a.Ranks), bestRank(b.Ranks); ba != bb {
			return ba < bb
		}
		return a.ID < b.ID
	})
	out := make([]Fused, len(order))
	for i, f := range order {
		out[i] = *f
	}
	return out
}

func bestRank(ranks []int) int {
	best := int(^uint(0) >> 1)
	for _, r := range ranks {
		if r > 0 && r < best {
			best = r
		}
	}
	return best
}
