package retrievaltest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/soteai/gateway/assist"
)

// BagOfWords is a deterministic embedder for tests. A text's vector counts
// its words, hashed by their first six letters (a crude stem), and adds a
// strong component for each concept whose prefix a word starts with, so
// "verenpaineen", "blodtrycket" and "pressure" can share a concept. Vectors
// are L2-normalised. The digest is derived from the model name and
// Version, so changing Version simulates an updated model.
type BagOfWords struct {
	Dims     map[string]int    // dimension per model; default 64
	Concepts map[string]string // word prefix → concept name
	Version  string
	// Err, when set, is returned by every call.
	Err error

	mu     sync.Mutex
	calls  int
	inputs int
	pris   []assist.Priority
}

// Embed implements retrieval.Embedder.
func (b *BagOfWords) Embed(ctx context.Context, pri assist.Priority, model string, inputs []string) ([][]float32, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	b.mu.Lock()
	b.calls++
	b.inputs += len(inputs)
	b.pris = append(b.pris, pri)
	err := b.Err
	b.mu.Unlock()
	if err != nil {
		return nil, "", err
	}
	if model == "" {
		return nil, "", assist.Errorf(assist.KindNotFound, "no model named")
	}
	out := make([][]float32, len(inputs))
	for i, in := range inputs {
		out[i] = b.vector(model, in)
	}
	return out, b.Digest(model), nil
}

// Digest is the digest Embed reports for model.
func (b *BagOfWords) Digest(model string) string {
	sum := sha256.Sum256([]byte(model + "\x00" + b.Version))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Stats returns the number of calls and of inputs embedded so far.
func (b *BagOfWords) Stats() (calls, inputs int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls, b.inputs
}

// Priorities returns the priority of every call so far.
func (b *BagOfWords) Priorities() []assist.Priority {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]assist.Priority(nil), b.pris...)
}

func (b *BagOfWords) concepts() []string {
	set := map[string]bool{}
	for _, c := range b.Concepts {
		set[c] = true
	}
	names := make([]string, 0, len(set))
	for c := range set {
		names = append(names, c)
	}
	sort.Strings(names)
	return names
}

func (b *BagOfWords) vector(model, text string) []float32 {
	dims := b.Dims[model]
	if dims == 0 {
		dims = 64
	}
	concepts := b.concepts()
	reserved := min(len(concepts), dims/2)
	v := make([]float32, dims)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		r := []rune(w)
		stem := string(r[:min(6, len(r))])
		h := fnv.New32a()
		h.Write([]byte(stem))
		v[reserved+int(h.Sum32()%uint32(dims-reserved))] += 1
		for prefix, c := range b.Concepts {
			if strings.HasPrefix(w, prefix) {
				i := sort.SearchStrings(concepts, c)
				if i < reserved {
					v[i] += 3
				}
			}
		}
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		v[dims-1] = 1
		return v
	}
	n := float32(math.Sqrt(norm))
	for i := range v {
		v[i] /= n
	}
	return v
}
