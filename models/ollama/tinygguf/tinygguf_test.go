package tinygguf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goldenfile "github.com/soteai/gateway/assist/golden"

	"github.com/ollama/ollama/fs/ggml"
	"github.com/ollama/ollama/tokenizer"
)

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func writeModel(t *testing.T, c Config) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), ModelFile)
	if err := WriteFile(path, c); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, b []byte) *ggml.GGML {
	t.Helper()
	g, err := ggml.Decode(bytes.NewReader(b), -1)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return g
}

func TestWriteFileDecodes(t *testing.T) {
	c := Default()
	b := writeModel(t, c)
	if n := len(b); n < 300_000 || n > 1_000_000 {
		t.Errorf("file size %d bytes, want about half a megabyte", n)
	}
	g := decode(t, b)
	kv := g.KV()

	if got := kv.Architecture(); got != "llama" {
		t.Fatalf("architecture %q, want llama", got)
	}
	uints := []struct {
		key  string
		want uint32
	}{
		{"context_length", 4096},
		{"embedding_length", 64},
		{"block_count", 2},
		{"feed_forward_length", 128},
		{"attention.head_count", 4},
		{"attention.head_count_kv", 2},
		{"rope.dimension_count", 16},
		{"tokenizer.ggml.bos_token_id", BOSID},
		{"tokenizer.ggml.eos_token_id", EOSID},
		{"tokenizer.ggml.unknown_token_id", UnknownID},
	}
	for _, u := range uints {
		t.Run(u.key, func(t *testing.T) {
			if got := kv.Uint(u.key); got != u.want {
				t.Errorf("%s = %d, want %d", u.key, got, u.want)
			}
		})
	}
	if got := kv.String("tokenizer.ggml.model"); got != "llama" {
		t.Errorf("tokenizer model %q, want llama", got)
	}
	if got := kv.Float("attention.layer_norm_rms_epsilon"); got <= 0 {
		t.Errorf("rms epsilon %v, want > 0", got)
	}
	tokens := kv.Strings("tokenizer.ggml.tokens")
	if len(tokens) != VocabSize || len(kv.Ints("tokenizer.ggml.token_type")) != VocabSize || len(kv.Floats("tokenizer.ggml.scores")) != VocabSize {
		t.Fatalf("vocabulary arrays have %d tokens, want %d each", len(tokens), VocabSize)
	}
	for id, want := range map[int]string{UnknownID: "<unk>", BOSID: "<s>", EOSID: "</s>", ByteID0: "<0x00>", ByteID0 + 'a': "<0x61>", ByteID0 + 255: "<0xFF>", SpaceID: "▁"} {
		if tokens[id] != want {
			t.Errorf("token %d = %q, want %q", id, tokens[id], want)
		}
	}

	shapes := map[string][]uint64{
		"token_embd.weight":        {64, VocabSize},
		"output_norm.weight":       {64},
		"output.weight":            {64, VocabSize},
		"blk.0.attn_norm.weight":   {64},
		"blk.0.attn_q.weight":      {64, 64},
		"blk.0.attn_k.weight":      {64, 32},
		"blk.0.attn_v.weight":      {64, 32},
		"blk.0.attn_output.weight": {64, 64},
		"blk.0.ffn_norm.weight":    {64},
		"blk.0.ffn_gate.weight":    {64, 128},
		"blk.0.ffn_up.weight":      {64, 128},
		"blk.1.ffn_down.weight":    {128, 64},
		"blk.1.attn_output.weight": {64, 64},
		"blk.1.ffn_up.weight":      {64, 128},
		"blk.1.attn_norm.weight":   {64},
		"blk.1.attn_k.weight":      {64, 32},
		"blk.0.ffn_down.weight":    {128, 64},
		"blk.1.ffn_gate.weight":    {64, 128},
		"blk.1.attn_q.weight":      {64, 64},
		"blk.1.attn_v.weight":      {64, 32},
		"blk.1.ffn_norm.weight":    {64},
	}
	items := g.Tensors().Items()
	if len(items) != len(shapes) {
		t.Errorf("%d tensors, want %d", len(items), len(shapes))
	}
	for _, ts := range items {
		want, ok := shapes[ts.Name]
		if !ok {
			t.Errorf("unexpected tensor %s", ts.Name)
			continue
		}
		if !slices.Equal(ts.Shape, want) {
			t.Errorf("%s shape %v, want %v", ts.Name, ts.Shape, want)
		}
		if ts.Kind != uint32(ggml.TensorTypeF32) {
			t.Errorf("%s kind %d, want F32", ts.Name, ts.Kind)
		}
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	a := writeModel(t, Default())
	b := writeModel(t, Default())
	if !bytes.Equal(a, b) {
		t.Fatal("two files written with the same seed differ")
	}
	other := Default()
	other.Seed = 2
	if bytes.Equal(a, writeModel(t, other)) {
		t.Fatal("files written with different seeds are equal")
	}
	sum := sha256.Sum256(a)
	golden(t, "tiny.gguf.sha256", []byte(hex.EncodeToString(sum[:])+"\n"))
}

// TestOutputBias checks the bias channel that keeps every token outside
// Alphabet out of sampling.
func TestOutputBias(t *testing.T) {
	c := Default()
	var out, embd []float32
	for _, ts := range c.tensors() {
		switch ts.name {
		case "output.weight":
			out = ts.data
		case "token_embd.weight":
			embd = ts.data
		case "blk.0.attn_output.weight", "blk.1.attn_output.weight", "blk.0.ffn_down.weight", "blk.1.ffn_down.weight":
			in := int(ts.shape[0])
			if slices.ContainsFunc(ts.data[:in], func(v float32) bool { return v != 0 }) {
				t.Errorf("%s writes to the bias channel", ts.name)
			}
		}
	}
	e := c.EmbeddingLength
	tokens, _, _ := Vocabulary()
	var emitted []string
	for id := range VocabSize {
		if embd[id*e] != 1 {
			t.Errorf("token %q: bias channel of its embedding is %v, want 1", tokens[id], embd[id*e])
		}
		if out[id*e] < 0 {
			continue
		}
		text, err := sentencePiece().Decode([]int32{int32(id)})
		if err != nil {
			t.Fatal(err)
		}
		emitted = append(emitted, text)
	}
	slices.Sort(emitted)
	if got := strings.Join(emitted, ""); got != Alphabet {
		t.Errorf("tokens the model can emit decode to %q, want %q", got, Alphabet)
	}
}

func sentencePiece() tokenizer.SentencePiece {
	tokens, scores, types := Vocabulary()
	return tokenizer.NewSentencePiece(&tokenizer.Vocabulary{
		Values: tokens, Scores: scores, Types: types,
		BOS: []int32{BOSID}, EOS: []int32{EOSID}, AddBOS: true,
	})
}

func TestTokenizerRoundTrip(t *testing.T) {
	spm := sentencePiece()
	for _, text := range []string{"hello", "hei maailma", "Äänitä 120/80 mmHg ✓", "rivi\nrivi"} {
		t.Run(text, func(t *testing.T) {
			ids, err := spm.Encode(text, false)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(ids, UnknownID) {
				t.Errorf("encoding has <unk>: %v", ids)
			}
			got, err := spm.Decode(ids)
			if err != nil {
				t.Fatal(err)
			}
			if got != text {
				t.Errorf("round trip: got %q, want %q (ids %v)", got, text, ids)
			}
		})
	}
}

func TestInvalidConfig(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"zero value", func(c *Config) { *c = Config{} }, "EmbeddingLength must be positive"},
		{"heads do not divide width", func(c *Config) { c.HeadCount = 5 }, "does not divide EmbeddingLength"},
		{"odd head dimension", func(c *Config) { c.EmbeddingLength = 36 }, "must be even"},
		{"kv heads do not divide heads", func(c *Config) { c.HeadCountKV = 3 }, "does not divide HeadCount"},
		{"no reply length", func(c *Config) { c.NumPredict = 0 }, "NumPredict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			_, err := WriteDir(t.TempDir(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	mf, err := WriteDir(dir, Default())
	if err != nil {
		t.Fatal(err)
	}
	if mf != filepath.Join(dir, Modelfile) {
		t.Errorf("WriteDir returned %q", mf)
	}
	if _, err := os.Stat(filepath.Join(dir, ModelFile)); err != nil {
		t.Error(err)
	}
	got, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "Modelfile", got)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory has %d entries, want 2 (no temporary files left)", len(entries))
	}
}
