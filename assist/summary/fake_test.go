package summary

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
)

// fakeModels answers like an obedient model: for every section key in
// the prompt, one sentence that copies the first source's text and cites
// it, plus an unknown citation "zz9". Partial-note prompts are answered
// from the partial notes. It records every call and entry.
type fakeModels struct {
	mu      sync.Mutex
	calls   []record.Call
	entries []record.Entry
	seq     int64
	// answer, when set, replaces the generated answer.
	answer func(c record.Call) string
	chunk  int // stream piece size (default 7)
}

var (
	keyLine     = regexp.MustCompile(`(?m)^- "([a-z_]+)" \(`)
	sourceLine  = regexp.MustCompile(`(?m)^\[([^\]]+)\] [^:]*: (.*)$`)
	partialLine = regexp.MustCompile(`(?m)^- ([a-z_]+): (.*) \(cites: (.*)\)$`)
)

func (f *fakeModels) generate(c record.Call) string {
	if f.answer != nil {
		return f.answer(c)
	}
	// Members in the prompt's section order, as a model writes them.
	var keys []string
	out := map[string][]map[string]any{}
	for _, k := range keyLine.FindAllStringSubmatch(c.Prompt, -1) {
		keys = append(keys, k[1])
	}
	if ps := partialLine.FindAllStringSubmatch(c.Prompt, -1); len(ps) > 0 {
		for _, p := range ps {
			out[p[1]] = append(out[p[1]], map[string]any{"text": p[2], "cites": strings.Split(p[3], ", ")})
		}
	} else if src := sourceLine.FindAllStringSubmatch(c.Prompt, -1); len(src) > 0 {
		for i, k := range keys {
			s := src[i%len(src)]
			out[k] = []map[string]any{{"text": s[2], "cites": []string{s[1], "zz9"}}}
		}
	}
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		v, _ := json.Marshal(out[k])
		if out[k] == nil {
			v = []byte("[]")
		}
		fmt.Fprintf(&b, "%q:%s", k, v)
	}
	b.WriteString("}")
	return b.String()
}

func (f *fakeModels) Generate(ctx context.Context, c record.Call) (record.Result, error) {
	if err := ctx.Err(); err != nil {
		return record.Result{}, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.seq++
	seq := f.seq
	f.mu.Unlock()
	return record.Result{Text: f.generate(c), Seq: seq, Model: record.Model{Name: "fake", Digest: "sha256:f00d"}}, nil
}

func (f *fakeModels) Stream(ctx context.Context, c record.Call, emit func(string) error) (record.Result, error) {
	res, err := f.Generate(ctx, c)
	if err != nil {
		return res, err
	}
	n := f.chunk
	if n <= 0 {
		n = 7
	}
	text := res.Text
	for i := 0; i < len(text); i += n {
		if err := emit(text[i:min(i+n, len(text))]); err != nil {
			return record.Result{}, err
		}
	}
	res.Text = ""
	return res, nil
}

func (f *fakeModels) Commit(ctx context.Context, e record.Entry) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, e)
	f.seq++
	return f.seq, nil
}

func (f *fakeModels) kinds() []audit.EventKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []audit.EventKind
	for _, e := range f.entries {
		out = append(out, e.Kind)
	}
	return out
}
