package summary

import (
	"context"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
)

// estimateTokens is a conservative token count for text: a token per
// three characters (Finnish words split into more tokens than English).
func estimateTokens(s string) int { return utf8.RuneCountInString(s)/3 + 1 }

func turnTokens(t Turn) int {
	return estimateTokens(t.ID) + estimateTokens(t.Speaker) + estimateTokens(t.Text) + 4
}

// budget is how many tokens of sources (or partial notes) one prompt may
// carry: the context window less the answer and the prompt's own text.
func (j *job) budget() (int, error) {
	system, prompt := render(newPromptData(j.tmpl, j.lang))
	b := j.o.NumCtx - j.o.NumPredict - estimateTokens(system) - estimateTokens(prompt) - 64
	if b < 100 {
		return 0, assist.E(assist.KindUnavailable, "summary.budget",
			"the configured model context (num_ctx) is too small for this template; raise summary.num_ctx or lower summary.num_predict")
	}
	return b, nil
}

// segments cuts the sources into consecutive segments that each fit the
// budget. A turn longer than the budget is cut at spaces into pieces that
// keep its id; no text is ever left out.
func (j *job) segments(turns []Turn) ([][]Turn, error) {
	b, err := j.budget()
	if err != nil {
		return nil, err
	}
	var (
		out  [][]Turn
		cur  []Turn
		used int
	)
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur, used = nil, 0
		}
	}
	for _, t := range turns {
		for _, piece := range splitTurn(t, b) {
			n := turnTokens(piece)
			if used+n > b {
				flush()
			}
			cur = append(cur, piece)
			used += n
		}
	}
	flush()
	return out, nil
}

// splitTurn cuts t into pieces of at most budget tokens, at spaces.
func splitTurn(t Turn, budget int) []Turn {
	if turnTokens(t) <= budget {
		return []Turn{t}
	}
	maxRunes := (budget - turnTokens(Turn{ID: t.ID, Speaker: t.Speaker})) * 3
	if maxRunes < 30 {
		maxRunes = 30
	}
	var out []Turn
	rs := []rune(t.Text)
	for len(rs) > 0 {
		n := min(maxRunes, len(rs))
		if n < len(rs) {
			if k := lastSpace(rs[:n]); k > n/2 {
				n = k
			}
		}
		p := t
		p.Text = strings.TrimSpace(string(rs[:n]))
		out = append(out, p)
		rs = rs[n:]
	}
	return out
}

func lastSpace(rs []rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == ' ' || rs[i] == '\n' {
			return i
		}
	}
	return -1
}

// mapReduce writes partial notes of every segment in parallel (each an
// audited call related to the task's record), then merges them, in as
// many rounds as the partial notes need to fit the context.
func (j *job) mapReduce(ctx context.Context, segs [][]Turn, stream bool, d *Draft) ([]rawSection, error) {
	parts := make([][]rawSection, len(segs))
	errs := make([]error, len(segs))
	sem := make(chan struct{}, j.o.MaxParallel)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, seg := range segs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = assist.E(assist.KindCanceled, "summary.mapReduce", ctx.Err())
				return
			}
			defer func() { <-sem }()
			data := newPromptData(j.tmpl, j.lang)
			data.Sources, data.Part, data.Parts = seg, i+1, len(segs)
			raw, err := j.callLocked(ctx, &mu, data, map[string]string{"step": "map", "segment": itoa(i + 1), "segments": itoa(len(segs))})
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			parts[i] = raw
			mu.Lock()
			done++
			n := done
			mu.Unlock()
			if err := j.emitLocked(&mu, Event{Name: "progress", Data: map[string]any{"step": "map", "done": n, "of": len(segs)}}); err != nil {
				errs[i] = assist.E(assist.KindCanceled, "summary.mapReduce", err)
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && assist.KindOf(err) != assist.KindCanceled {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, assist.E(assist.KindCanceled, "summary.mapReduce", err)
		}
	}
	partials := j.partials(parts)
	b, err := j.budget()
	if err != nil {
		return nil, err
	}
	for level := 1; ; level++ {
		groups := groupPartials(partials, b)
		if len(groups) == 1 {
			data := newPromptData(j.tmpl, j.lang)
			data.Partials = groups[0]
			return j.call(ctx, data, map[string]string{"step": "reduce", "level": itoa(level)}, stream, d)
		}
		var next []promptPartial
		for gi, g := range groups {
			data := newPromptData(j.tmpl, j.lang)
			data.Partials = g
			raw, err := j.call(ctx, data, map[string]string{"step": "reduce", "level": itoa(level), "group": itoa(gi + 1)}, false, d)
			if err != nil {
				return nil, err
			}
			next = append(next, j.partials([][]rawSection{raw})...)
		}
		if len(next) >= len(partials) || level >= 8 {
			// Merging no longer shrinks the notes (or took too many rounds):
			// the note is the merged groups in order, nothing left out.
			return partialSections(next), nil
		}
		partials = next
		if level >= 8 {
			return nil, assist.E(assist.KindInternal, "summary.mapReduce", "the partial notes did not fit the model's context after 8 merge rounds; raise summary.num_ctx")
		}
	}
}

func (j *job) callLocked(ctx context.Context, mu *sync.Mutex, data promptData, attrs map[string]string) ([]rawSection, error) {
	// The call itself runs unlocked; only the job's counters are shared.
	c := *j
	c.calls, c.flags = 0, nil
	raw, err := c.call(ctx, data, attrs, false, nil)
	mu.Lock()
	j.calls += c.calls
	j.flags = append(j.flags, c.flags...)
	if c.model.Name != "" {
		j.model = c.model
	}
	mu.Unlock()
	return raw, err
}

func (j *job) emitLocked(mu *sync.Mutex, e Event) error {
	mu.Lock()
	defer mu.Unlock()
	return j.emit(e)
}

// partials turns map answers into citable partial sentences, in segment
// order; sentences without a known section or with unknown citations keep
// their valid citations only.
func (j *job) partials(parts [][]rawSection) []promptPartial {
	var out []promptPartial
	for _, raw := range parts {
		for _, rs := range raw {
			i := j.sectionIndex(rs.Key)
			if i < 0 {
				continue
			}
			for _, s := range rs.Sentences {
				var cites []string
				for _, c := range s.Cites {
					if c = strings.TrimSpace(c); j.ids[c] {
						cites = append(cites, c)
					}
				}
				out = append(out, promptPartial{Section: j.tmpl.Sections[i].Key, Text: strings.TrimSpace(s.Text), Cites: strings.Join(cites, ", ")})
			}
		}
	}
	return out
}

// groupPartials cuts partials into groups that fit the budget.
func groupPartials(ps []promptPartial, budget int) [][]promptPartial {
	var (
		out  [][]promptPartial
		cur  []promptPartial
		used int
	)
	for _, p := range ps {
		n := estimateTokens(p.Section) + estimateTokens(p.Text) + estimateTokens(p.Cites) + 6
		if used+n > budget && len(cur) > 0 {
			out = append(out, cur)
			cur, used = nil, 0
		}
		cur = append(cur, p)
		used += n
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// partialSections turns partial notes back into sections, in order.
func partialSections(ps []promptPartial) []rawSection {
	var out []rawSection
	idx := map[string]int{}
	for _, p := range ps {
		i, ok := idx[p.Section]
		if !ok {
			i = len(out)
			idx[p.Section] = i
			out = append(out, rawSection{Key: p.Section})
		}
		var cites []string
		for c := range strings.SplitSeq(p.Cites, ",") {
			if c = strings.TrimSpace(c); c != "" {
				cites = append(cites, c)
			}
		}
		out[i].Sentences = append(out[i].Sentences, rawSentence{Text: p.Text, Cites: cites})
	}
	return out
}
