package ollama

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models"
)

// Service makes typed model calls through the host pool, for the gateway's
// own tasks (retrieval embeddings, risk summaries, evaluations).
type Service struct {
	Pool   *models.Pool
	Client *Client
	// MaxAnswerBytes bounds a non-streaming answer read into memory; 0
	// means 32 MiB. A larger one is an upstream error.
	MaxAnswerBytes int64
}

func (s *Service) limit() int64 {
	if s.MaxAnswerBytes > 0 {
		return s.MaxAnswerBytes
	}
	return 32 << 20
}

// Embed returns one vector per input and the digest of the model that made
// them, scheduled at priority prio (batch for indexing, interactive for a
// search someone waits for).
func (s *Service) Embed(ctx context.Context, prio assist.Priority, model string, inputs []string) ([][]float32, string, error) {
	const op = "ollama.Embed"
	body, err := json.Marshal(&EmbedRequest{Model: model, Input: inputs})
	if err != nil {
		return nil, "", assist.E(op, err)
	}
	var out EmbedResponse
	digest, err := s.call(ctx, op, models.Call{Model: model, Priority: prio, Path: "/api/embed", Body: body}, &out)
	if err != nil {
		return nil, "", err
	}
	if len(out.Embeddings) != len(inputs) {
		return nil, "", assist.E(assist.KindUpstream, op, "the model host returned the wrong number of embeddings")
	}
	return out.Embeddings, digest, nil
}

// Generation is the result of Generate.
type Generation struct {
	Text         string
	Model        models.ModelInfo
	Host         string
	PromptTokens int
	OutputTokens int
}

// GenerateParams is one completion request.
type GenerateParams struct {
	Model, System, Prompt string
	// Digest, when set, is the release of Model that must answer (hosts
	// with another digest under the name are not used).
	Digest string
	// Format is "" or "json" (the model must answer one JSON value).
	Format   string
	Priority assist.Priority
	Options  map[string]any
}

func (p GenerateParams) body(stream bool) ([]byte, error) {
	req := GenerateRequest{Model: p.Model, System: p.System, Prompt: p.Prompt, Stream: &stream, Options: p.Options}
	if p.Format != "" {
		f, err := json.Marshal(p.Format)
		if err != nil {
			return nil, err
		}
		req.Format = f
	}
	return json.Marshal(req)
}

// Generate runs one non-streaming completion.
func (s *Service) Generate(ctx context.Context, p GenerateParams) (Generation, error) {
	const op = "ollama.Generate"
	body, err := p.body(false)
	if err != nil {
		return Generation{}, assist.E(op, err)
	}
	var out GenerateResponse
	call := models.Call{Model: p.Model, Digest: p.Digest, Priority: p.Priority, Path: "/api/generate", Body: body}
	resp, err := s.Pool.Forward(ctx, s.Client, call)
	if err != nil {
		return Generation{}, err
	}
	g := Generation{Model: resp.Lease.Model, Host: resp.Lease.Host.Name}
	err = decode(resp, &out, s.limit())
	resp.Finish(err)
	if err != nil {
		return Generation{}, assist.E(op, err)
	}
	g.Text, g.PromptTokens, g.OutputTokens = out.Response, out.PromptEvalCount, out.EvalCount
	return g, nil
}

// GenerateStream runs one streamed completion, calling emit with each
// piece of text as it arrives (g names the host and model release). An
// error from emit stops the generation and is returned; the host is not
// blamed for it.
func (s *Service) GenerateStream(ctx context.Context, p GenerateParams, emit func(text string, g Generation) error) (Generation, error) {
	const op = "ollama.GenerateStream"
	body, err := p.body(true)
	if err != nil {
		return Generation{}, assist.E(op, err)
	}
	call := models.Call{Model: p.Model, Digest: p.Digest, Priority: p.Priority, Path: "/api/generate", Body: body}
	resp, err := s.Pool.Forward(ctx, s.Client, call)
	if err != nil {
		return Generation{}, err
	}
	g := Generation{Model: resp.Lease.Model, Host: resp.Lease.Host.Name}
	if resp.Status >= 300 {
		var out GenerateResponse
		err := decode(resp, &out, s.limit())
		resp.Finish(err)
		return g, assist.E(op, err)
	}
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader(resp.First), resp.Body))
	for {
		var out GenerateResponse
		if err := dec.Decode(&out); err != nil {
			if err == io.EOF {
				err = assist.E(assist.KindUpstream, op, "the model host ended the stream without finishing")
			} else if ctx.Err() != nil {
				err = assist.ContextError(op, ctx)
			} else {
				err = assist.E(assist.KindUpstream, op, "the model host failed mid-stream", err)
			}
			resp.Finish(err)
			return g, err
		}
		if out.Response != "" {
			if err := emit(out.Response, g); err != nil {
				resp.Finish(assist.E(assist.KindCanceled, op, err))
				return g, err
			}
		}
		if out.Done {
			g.PromptTokens, g.OutputTokens = out.PromptEvalCount, out.EvalCount
			resp.Finish(nil)
			return g, nil
		}
	}
}

func (s *Service) call(ctx context.Context, op string, call models.Call, out any) (string, error) {
	resp, err := s.Pool.Forward(ctx, s.Client, call)
	if err != nil {
		return "", err
	}
	digest := resp.Lease.Model.Digest
	err = decode(resp, out, s.limit())
	resp.Finish(err)
	if err != nil {
		return "", assist.E(op, err)
	}
	return digest, nil
}

func decode(resp *models.Response, out any, limit int64) error {
	data, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(resp.First), resp.Body), limit+1))
	if err != nil {
		return assist.E(assist.KindUpstream, "the model host failed mid-response", err)
	}
	if int64(len(data)) > limit {
		return assist.Errorf(assist.KindUpstream, "the model host's answer is larger than the limit of %d bytes", limit)
	}
	if resp.Status >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		kind := assist.KindUpstream
		switch resp.Status {
		case 400:
			kind = assist.KindInvalid
		case 404:
			kind = assist.KindNotFound
		}
		return assist.E(kind, "the model host refused the request", &upstreamError{resp.Status, e.Error})
	}
	if err := json.Unmarshal(data, out); err != nil {
		return assist.E(assist.KindUpstream, "the model host sent an unreadable response", err)
	}
	return nil
}

type upstreamError struct {
	status int
	msg    string
}

func (e *upstreamError) Error() string {
	return "upstream status " + strconv.Itoa(e.status) + ": " + e.msg
}
