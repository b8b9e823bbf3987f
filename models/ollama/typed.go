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

// Generate runs one non-streaming completion of prompt (with an optional
// system prompt) at the given priority.
func (s *Service) Generate(ctx context.Context, model, system, prompt string, prio assist.Priority, options map[string]any) (Generation, error) {
	const op = "ollama.Generate"
	stream := false
	req := GenerateRequest{Model: model, System: system, Prompt: prompt, Stream: &stream, Options: options}
	body, err := json.Marshal(req)
	if err != nil {
		return Generation{}, assist.E(op, err)
	}
	var out GenerateResponse
	call := models.Call{Model: model, Priority: prio, Path: "/api/generate", Body: body}
	resp, err := s.Pool.Forward(ctx, s.Client, call)
	if err != nil {
		return Generation{}, err
	}
	g := Generation{Model: resp.Lease.Model, Host: resp.Lease.Host.Name}
	err = decode(resp, &out)
	resp.Finish(err)
	if err != nil {
		return Generation{}, assist.E(op, err)
	}
	g.Text, g.PromptTokens, g.OutputTokens = out.Response, out.PromptEvalCount, out.EvalCount
	return g, nil
}

func (s *Service) call(ctx context.Context, op string, call models.Call, out any) (string, error) {
	resp, err := s.Pool.Forward(ctx, s.Client, call)
	if err != nil {
		return "", err
	}
	digest := resp.Lease.Model.Digest
	err = decode(resp, out)
	resp.Finish(err)
	if err != nil {
		return "", assist.E(op, err)
	}
	return digest, nil
}

func decode(resp *models.Response, out any) error {
	data, err := io.ReadAll(io.MultiReader(bytes.NewReader(resp.First), resp.Body))
	if err != nil {
		return assist.E(assist.KindUpstream, "the model host failed mid-response", err)
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
