package tinygguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/ollama/ollama/fs/ggml"
)

// Config sizes the generated model. Start from Default; the zero value is
// not valid.
type Config struct {
	// Seed selects the random weights; the same seed gives the same file.
	Seed uint64
	// EmbeddingLength is the width of the hidden state and of embeddings.
	EmbeddingLength int
	// BlockCount is the number of transformer layers.
	BlockCount int
	// HeadCount and HeadCountKV are the attention and key/value head counts;
	// HeadCount must divide EmbeddingLength and HeadCountKV must divide
	// HeadCount.
	HeadCount, HeadCountKV int
	// FeedForwardLength is the width of each layer's gated MLP.
	FeedForwardLength int
	// ContextLength is the longest context the model accepts, in tokens.
	ContextLength int
	// NumPredict is the default reply length in tokens, written into the
	// Modelfile (the model never ends a reply by itself).
	NumPredict int
}

// Default returns the configuration of the test model: 2 layers of 64
// dimensions, about 0.45 MB on disk.
func Default() Config {
	return Config{
		Seed:              1,
		EmbeddingLength:   64,
		BlockCount:        2,
		HeadCount:         4,
		HeadCountKV:       2,
		FeedForwardLength: 128,
		ContextLength:     4096,
		NumPredict:        32,
	}
}

// Token ids of the fixed vocabulary.
const (
	UnknownID = 0 // <unk>
	BOSID     = 1 // <s>
	EOSID     = 2 // </s>
	// ByteID0 is the id of the byte token <0x00>; byte b has id ByteID0+b.
	ByteID0 = 3
	// SpaceID is the SentencePiece word separator "▁", decoded as a space.
	SpaceID = ByteID0 + 256
	// VocabSize is the number of tokens.
	VocabSize = SpaceID + 1
)

// Alphabet lists every character the model can emit.
const Alphabet = " abcdefghijklmnopqrstuvwxyz"

// ModelFile is the name of the GGUF file WriteDir writes, and Modelfile the
// name of the Ollama Modelfile next to it.
const (
	ModelFile = "tiny.gguf"
	Modelfile = "Modelfile"
)

// Template is the Ollama chat template: one "<|role|>" header per message,
// then the assistant header the model continues from.
const Template = `{{- range .Messages }}<|{{ .Role }}|>
{{ .Content }}
{{ end }}<|assistant|>
`

// SentencePiece token types, as in the GGUF tokenizer.ggml.token_type array.
const (
	typeNormal  = 1
	typeUnknown = 2
	typeControl = 3
	typeByte    = 6
)

// Vocabulary returns the token strings, scores and types of the model's
// SentencePiece vocabulary, indexed by token id.
func Vocabulary() (tokens []string, scores []float32, types []int32) {
	tokens = make([]string, 0, VocabSize)
	types = make([]int32, 0, VocabSize)
	tokens = append(tokens, "<unk>", "<s>", "</s>")
	types = append(types, typeUnknown, typeControl, typeControl)
	for b := range 256 {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, typeByte)
	}
	tokens = append(tokens, "▁")
	types = append(types, typeNormal)
	return tokens, make([]float32, VocabSize), types
}

// emits reports whether the model may sample token id.
func emits(id int) bool {
	if id == SpaceID {
		return true
	}
	b := id - ByteID0
	return b >= 'a' && b <= 'z'
}

func (c Config) validate() error {
	var errs []error
	positive := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	positive("EmbeddingLength", c.EmbeddingLength)
	positive("BlockCount", c.BlockCount)
	positive("HeadCount", c.HeadCount)
	positive("HeadCountKV", c.HeadCountKV)
	positive("FeedForwardLength", c.FeedForwardLength)
	positive("ContextLength", c.ContextLength)
	positive("NumPredict", c.NumPredict)
	if len(errs) == 0 {
		if c.EmbeddingLength%c.HeadCount != 0 {
			errs = append(errs, fmt.Errorf("HeadCount %d does not divide EmbeddingLength %d", c.HeadCount, c.EmbeddingLength))
		} else if (c.EmbeddingLength/c.HeadCount)%2 != 0 {
			errs = append(errs, fmt.Errorf("head dimension %d must be even for rotary embeddings", c.EmbeddingLength/c.HeadCount))
		}
		if c.HeadCount%c.HeadCountKV != 0 {
			errs = append(errs, fmt.Errorf("HeadCountKV %d does not divide HeadCount %d", c.HeadCountKV, c.HeadCount))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tinygguf: invalid config: %w", err)
	}
	return nil
}

// KV returns the GGUF metadata of the model described by c.
func (c Config) KV() ggml.KV {
	tokens, scores, types := Vocabulary()
	headDim := c.EmbeddingLength / c.HeadCount
	return ggml.KV{
		"general.architecture":                   "llama",
		"general.name":                           "tiny",
		"general.file_type":                      uint32(ggml.FileTypeF32),
		"llama.vocab_size":                       uint32(VocabSize),
		"llama.context_length":                   uint32(c.ContextLength),
		"llama.embedding_length":                 uint32(c.EmbeddingLength),
		"llama.block_count":                      uint32(c.BlockCount),
		"llama.feed_forward_length":              uint32(c.FeedForwardLength),
		"llama.attention.head_count":             uint32(c.HeadCount),
		"llama.attention.head_count_kv":          uint32(c.HeadCountKV),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"llama.rope.dimension_count":             uint32(headDim),
		"llama.rope.freq_base":                   float32(10000),
		"tokenizer.ggml.model":                   "llama",
		"tokenizer.ggml.tokens":                  tokens,
		"tokenizer.ggml.scores":                  scores,
		"tokenizer.ggml.token_type":              types,
		"tokenizer.ggml.bos_token_id":            uint32(BOSID),
		"tokenizer.ggml.eos_token_id":            uint32(EOSID),
		"tokenizer.ggml.unknown_token_id":        uint32(UnknownID),
		"tokenizer.ggml.add_bos_token":           true,
		"tokenizer.ggml.add_eos_token":           false,
	}
}

// tensor is a named float32 tensor; shape lists the fastest-varying
// dimension first, as GGUF does, so a weight of shape {in, out} is stored
// as out rows of in values.
type tensor struct {
	name  string
	shape []uint64
	data  []float32
}

// tensors returns the model's weights in a fixed order. They are drawn from
// a PCG generator seeded with c.Seed.
//
// Dimension 0 of the hidden state is a constant "bias channel": every token
// embedding has 1 there and no layer writes to it (row 0 of every output
// projection is zero), so after the final norm it is positive for every
// position. The output layer gives the tokens the model must never emit a
// large negative weight on that channel, which keeps them out of sampling,
// and the word separator a positive one, so replies look like words.
func (c Config) tensors() []tensor {
	r := rand.New(rand.NewPCG(c.Seed, 0x7469_6e79_6767_7566)) // "tinygguf"
	normal := func(n int, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * std)
		}
		return v
	}
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	zeroRow := func(v []float32, in int) []float32 {
		clear(v[:in])
		return v
	}

	e, f := c.EmbeddingLength, c.FeedForwardLength
	kvDim := e / c.HeadCount * c.HeadCountKV
	u := func(n int) uint64 { return uint64(n) }
	var ts []tensor

	embd := normal(e*VocabSize, 0.25)
	for t := range VocabSize {
		embd[t*e] = 1
	}
	ts = append(ts, tensor{"token_embd.weight", []uint64{u(e), VocabSize}, embd})

	for i := range c.BlockCount {
		p := fmt.Sprintf("blk.%d.", i)
		in := 1 / math.Sqrt(float64(e))
		ts = append(ts,
			tensor{p + "attn_norm.weight", []uint64{u(e)}, ones(e)},
			tensor{p + "attn_q.weight", []uint64{u(e), u(e)}, normal(e*e, in)},
			tensor{p + "attn_k.weight", []uint64{u(e), u(kvDim)}, normal(e*kvDim, in)},
			tensor{p + "attn_v.weight", []uint64{u(e), u(kvDim)}, normal(e*kvDim, in)},
			tensor{p + "attn_output.weight", []uint64{u(e), u(e)}, zeroRow(normal(e*e, 0.5*in), e)},
			tensor{p + "ffn_norm.weight", []uint64{u(e)}, ones(e)},
			tensor{p + "ffn_gate.weight", []uint64{u(e), u(f)}, normal(e*f, in)},
			tensor{p + "ffn_up.weight", []uint64{u(e), u(f)}, normal(e*f, in)},
			tensor{p + "ffn_down.weight", []uint64{u(f), u(e)}, zeroRow(normal(f*e, 0.5/math.Sqrt(float64(f))), f)},
		)
	}

	out := normal(e*VocabSize, 0.1)
	for t := range VocabSize {
		switch {
		case t == SpaceID:
			out[t*e] = 1.5 // about one character in five is a space
		case emits(t):
			out[t*e] = 0
		default:
			out[t*e] = -64
		}
	}
	ts = append(ts,
		tensor{"output_norm.weight", []uint64{u(e)}, ones(e)},
		tensor{"output.weight", []uint64{u(e), VocabSize}, out},
	)
	return ts
}

// Write writes the model described by c to f as GGUF.
func Write(f *os.File, c Config) error {
	if err := c.validate(); err != nil {
		return err
	}
	var ts []*ggml.Tensor
	for _, t := range c.tensors() {
		var b bytes.Buffer
		b.Grow(4 * len(t.data))
		if err := binary.Write(&b, binary.LittleEndian, t.data); err != nil {
			return fmt.Errorf("tinygguf: encode %s: %w", t.name, err)
		}
		ts = append(ts, &ggml.Tensor{
			Name:     t.name,
			Kind:     uint32(ggml.TensorTypeF32),
			Shape:    t.shape,
			WriterTo: bytes.NewReader(b.Bytes()),
		})
	}
	if err := ggml.WriteGGUF(f, c.KV(), ts); err != nil {
		return fmt.Errorf("tinygguf: write %s: %w", f.Name(), err)
	}
	return nil
}

// WriteFile writes the model described by c to path, replacing it
// atomically.
func WriteFile(path string, c Config) error {
	if err := c.validate(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tinygguf-*")
	if err != nil {
		return fmt.Errorf("tinygguf: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, c); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tinygguf: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("tinygguf: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("tinygguf: %w", err)
	}
	return nil
}

// ModelfileText returns an Ollama Modelfile that creates the model from the
// GGUF file at from (a path relative to the Modelfile, or absolute), with
// the chat template, the default context and reply lengths, and one thread.
func ModelfileText(from string, c Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FROM %s\n", from)
	fmt.Fprintf(&b, "TEMPLATE \"\"\"%s\"\"\"\n", Template)
	fmt.Fprintf(&b, "PARAMETER num_ctx %d\n", c.ContextLength)
	fmt.Fprintf(&b, "PARAMETER num_predict %d\n", c.NumPredict)
	// One thread is plenty for a model this small, and more threads spin
	// against each other when the machine's cores are all busy.
	b.WriteString("PARAMETER num_thread 1\n")
	return b.String()
}

// WriteDir writes ModelFile and Modelfile into dir, creating it if needed,
// and returns the Modelfile's path, ready for `ollama create NAME -f PATH`.
func WriteDir(dir string, c Config) (string, error) {
	if err := c.validate(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tinygguf: %w", err)
	}
	if err := WriteFile(filepath.Join(dir, ModelFile), c); err != nil {
		return "", err
	}
	mf := filepath.Join(dir, Modelfile)
	if err := os.WriteFile(mf, []byte(ModelfileText("./"+ModelFile, c)), 0o644); err != nil {
		return "", fmt.Errorf("tinygguf: %w", err)
	}
	return mf, nil
}
