package interpret

import (
	"context"
	"strings"
	"sync"

	"github.com/soteai/gateway/retrieval"
)

// memGlossary finds glossary documents sharing a word with the query
// (the "or" query the pipeline sends), as the full-text search does.
type memGlossary struct {
	entries []GlossaryEntry
	queries []retrieval.Query
	fail    error
	mu      sync.Mutex
}

func (g *memGlossary) Search(ctx context.Context, q retrieval.Query) (retrieval.Hits, error) {
	g.mu.Lock()
	g.queries = append(g.queries, q)
	g.mu.Unlock()
	if g.fail != nil {
		return retrieval.Hits{}, g.fail
	}
	words := map[string]bool{}
	for _, w := range strings.Split(q.Text, " or ") {
		words[w] = true
	}
	h := retrieval.Hits{Collection: q.Collection, Mode: q.Mode, Results: []retrieval.Result{}}
	for i, e := range g.entries {
		req := e.IngestRequest(q.Collection, "test")
		match := false
		for _, w := range strings.Fields(strings.ToLower(string(req.Data))) {
			match = match || words[strings.Trim(w, ":")]
		}
		if match {
			h.Results = append(h.Results, retrieval.Result{ChunkID: int64(i + 1), Metadata: req.Metadata, Text: string(req.Data)})
		}
	}
	return h, nil
}
