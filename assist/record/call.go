package record

import (
	"context"
	"encoding/json"
	"maps"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
)

// Model is a resolved model: the name to call and, when a release pins
// it, the digest that must answer ("" accepts whatever the host has).
type Model struct {
	Name   string
	Digest string
}

// Resolver says which model serves a task. Errors: unavailable when no
// model is configured or approved for the task (the caller tells the user
// the task is not enabled).
type Resolver interface {
	Resolve(ctx context.Context, task assist.Task) (Model, error)
}

// Request is one model generation as the model layer runs it.
type Request struct {
	Model    Model
	Priority assist.Priority
	System   string
	Prompt   string
	// Format is "" or "json" (the model answers one JSON value).
	Format  string
	Options map[string]any
}

// Generation is a model's answer and who made it.
type Generation struct {
	Text         string
	Model        string // name
	Digest       string // digest of the release that answered
	Host         string
	PromptTokens int
	OutputTokens int
}

// Piece is one piece of a streamed generation, with the host and model
// digest that produce it (known from the first piece on).
type Piece struct {
	Text         string
	Host, Digest string
}

// Generator runs model generations through the host pool
// (models/ollama.Service). GenerateStream calls emit with each piece of
// text as it arrives; an error from emit stops the generation. Errors:
// busy, unavailable, upstream, timeout, canceled; invalid or not_found for
// a model the hosts refuse; conflict when no host has the required digest.
type Generator interface {
	Generate(ctx context.Context, req Request) (Generation, error)
	GenerateStream(ctx context.Context, req Request, emit func(Piece) error) (Generation, error)
}

// TemplateRef names the prompt template a call was rendered from.
type TemplateRef struct {
	ID      string
	Version string
}

// Call is one model call made for a task.
type Call struct {
	Task     assist.Task
	Template TemplateRef
	Priority assist.Priority
	// Model overrides the task's resolved model (e.g. an evaluation run of
	// a candidate); empty resolves it through the Resolver.
	Model *Model
	// Patient is the clear patient reference; the audit log pseudonymises it.
	Patient string
	// RelatesTo is the record of the task this call is part of (0: none).
	RelatesTo int64
	System    string
	Prompt    string
	Format    string
	Options   map[string]any
	// Attrs are small facts for the record (segment number, language pair).
	Attrs map[string]string
}

// Result is a released model answer.
type Result struct {
	Text         string
	Seq          int64 // the answer's audit record
	Model        Model // name and the digest that answered
	Host         string
	PromptTokens int
	OutputTokens int
	Latency      time.Duration
}

func (c Call) request(m Model) Request {
	return Request{Model: m, Priority: c.Priority, System: c.System, Prompt: c.Prompt, Format: c.Format, Options: c.Options}
}

// input is the exact model input the record hashes: system prompt, prompt,
// format and options as one JSON document.
func (c Call) input(m Model) []byte {
	b, _ := json.Marshal(struct {
		Model   string         `json:"model"`
		System  string         `json:"system,omitempty"`
		Prompt  string         `json:"prompt"`
		Format  string         `json:"format,omitempty"`
		Options map[string]any `json:"options,omitempty"`
	}{m.Name, c.System, c.Prompt, c.Format, c.Options})
	return b
}

func (r *Recorder) resolve(ctx context.Context, c Call) (Model, error) {
	if c.Model != nil && c.Model.Name != "" {
		return *c.Model, nil
	}
	if r.d.Resolver == nil {
		return Model{}, assist.E(assist.KindUnavailable, "record.resolve", "no model is configured for this task")
	}
	return r.d.Resolver.Resolve(ctx, c.Task)
}

func (r *Recorder) entry(c Call, m Model, g Generation, input []byte) Entry {
	return Entry{Event: audit.Event{
		Kind:            audit.KindAIOutput,
		Task:            c.Task,
		Patient:         c.Patient,
		Model:           m.Name,
		ModelDigest:     g.Digest,
		Host:            g.Host,
		TemplateID:      c.Template.ID,
		TemplateVersion: c.Template.Version,
		Input:           input,
		InputTokens:     g.PromptTokens,
		OutputTokens:    g.OutputTokens,
		RelatesTo:       c.RelatesTo,
		Attrs:           maps.Clone(c.Attrs),
	}}
}

// Generate makes the call, records the answer and only then returns it.
// A failed call is recorded too (best effort) and its error returned.
// Errors: those of the Generator, and unavailable when the answer could
// not be recorded (the answer is withheld).
func (r *Recorder) Generate(ctx context.Context, c Call) (Result, error) {
	m, err := r.resolve(ctx, c)
	if err != nil {
		return Result{}, err
	}
	start := r.d.Now()
	in := c.input(m)
	g, err := r.d.Models.Generate(ctx, c.request(m))
	e := r.entry(c, m, g, in)
	e.Latency = r.d.Now().Sub(start)
	if err != nil {
		return Result{}, r.Refuse(ctx, e, err)
	}
	e.Output = []byte(g.Text)
	e.Outcome = audit.OutcomeOK
	seq, err := r.Commit(ctx, e)
	if err != nil {
		return Result{}, err
	}
	return Result{Text: g.Text, Seq: seq, Model: Model{Name: m.Name, Digest: g.Digest}, Host: g.Host,
		PromptTokens: g.PromptTokens, OutputTokens: g.OutputTokens, Latency: e.Latency}, nil
}

// Stream makes the call as a stream: its start is recorded before the
// first piece of text reaches emit, its end (with the hash of all text
// released) after the last. When emit fails the generation stops and the
// end is recorded with that error's kind (canceled for a client that went
// away). An error after text was released means the
// output is incomplete or unrecorded: the caller tells its client in band.
func (r *Recorder) Stream(ctx context.Context, c Call, emit func(text string) error) (Result, error) {
	m, err := r.resolve(ctx, c)
	if err != nil {
		return Result{}, err
	}
	start := r.d.Now()
	in := c.input(m)
	e := r.entry(c, m, Generation{}, in)
	var (
		s       *Stream
		started bool
	)
	g, err := r.d.Models.GenerateStream(ctx, c.request(m), func(p Piece) error {
		if !started {
			started = true
			e.ModelDigest, e.Host = p.Digest, p.Host
			e.Latency = r.d.Now().Sub(start)
			begin := e
			begin.Kind = audit.KindStreamStart
			var err error
			if s, err = r.Begin(ctx, begin, emitWriter(emit)); err != nil {
				return err
			}
		}
		_, err := s.Write([]byte(p.Text))
		return err
	})
	if !started {
		// Nothing was released: record the refusal or an empty answer whole.
		e.ModelDigest, e.Host = g.Digest, g.Host
		e.Latency = r.d.Now().Sub(start)
		if err != nil {
			return Result{}, r.Refuse(ctx, e, err)
		}
		e.Output, e.Outcome = []byte{}, audit.OutcomeOK
		seq, cerr := r.Commit(ctx, e)
		if cerr != nil {
			return Result{}, cerr
		}
		return Result{Seq: seq, Model: Model{Name: m.Name, Digest: g.Digest}, Host: g.Host, Latency: e.Latency}, nil
	}
	if s == nil {
		// Begin itself failed: nothing was released.
		return Result{}, err
	}
	if endErr := s.End(ctx, err, Usage{PromptTokens: g.PromptTokens, OutputTokens: g.OutputTokens}); endErr != nil && err == nil {
		err = endErr
	}
	res := Result{Seq: s.Seq(), Model: Model{Name: m.Name, Digest: g.Digest}, Host: g.Host,
		PromptTokens: g.PromptTokens, OutputTokens: g.OutputTokens, Latency: r.d.Now().Sub(start)}
	return res, err
}

type emitWriter func(string) error

func (f emitWriter) Write(p []byte) (int, error) {
	if err := f(string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Fixed adapts one kind of call to a prompt-in, text-out function, for
// domain packages that declare such a Generator of their own (risk's
// plain-language summaries).
type Fixed struct {
	Rec  *Recorder
	Call Call
}

// Generate runs the fixed call with prompt.
func (f Fixed) Generate(ctx context.Context, prompt string) (string, error) {
	c := f.Call
	c.Prompt = prompt
	res, err := f.Rec.Generate(ctx, c)
	return res.Text, err
}

// Configured resolves a task to the model named for it in configuration,
// else to the default model. It pins no digest.
type Configured struct {
	Default string
	Tasks   map[assist.Task]string
}

var _ Resolver = Configured{}

// Resolve names the task's configured model. Errors: unavailable when
// none is configured.
func (c Configured) Resolve(_ context.Context, task assist.Task) (Model, error) {
	if m := c.Tasks[task]; m != "" {
		return Model{Name: m}, nil
	}
	if c.Default != "" {
		return Model{Name: c.Default}, nil
	}
	return Model{}, assist.E(assist.KindUnavailable, "record.Resolve", "no model is configured for the task "+string(task))
}
