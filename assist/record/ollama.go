package record

import (
	"context"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models/ollama"
)

// Ollama runs generations through the host pool with Ollama's API.
type Ollama struct{ Svc *ollama.Service }

var _ Generator = Ollama{}

func params(req Request) ollama.GenerateParams {
	return ollama.GenerateParams{Model: req.Model.Name, Digest: req.Model.Digest, System: req.System, Prompt: req.Prompt,
		Format: req.Format, Priority: req.Priority, Options: req.Options}
}

func generation(g ollama.Generation) Generation {
	return Generation{Text: g.Text, Model: g.Model.Name, Digest: g.Model.Digest, Host: g.Host,
		PromptTokens: g.PromptTokens, OutputTokens: g.OutputTokens}
}

// pinned refuses an answer from a release other than the one required.
func pinned(req Request, digest string) error {
	if req.Model.Digest != "" && digest != req.Model.Digest {
		return assist.E(assist.KindConflict, "record.Ollama",
			"the model host serves another release of "+req.Model.Name+" than the one approved for this task")
	}
	return nil
}

// Generate runs one completion; an answer from another release than a
// pinned digest is discarded (conflict).
func (o Ollama) Generate(ctx context.Context, req Request) (Generation, error) {
	g, err := o.Svc.Generate(ctx, params(req))
	if err != nil {
		return Generation{}, err
	}
	if err := pinned(req, g.Model.Digest); err != nil {
		return Generation{}, err
	}
	return generation(g), nil
}

// GenerateStream runs one streamed completion; with a pinned digest the
// stream stops before its first piece when another release answers.
func (o Ollama) GenerateStream(ctx context.Context, req Request, emit func(Piece) error) (Generation, error) {
	g, err := o.Svc.GenerateStream(ctx, params(req), func(text string, g ollama.Generation) error {
		if err := pinned(req, g.Model.Digest); err != nil {
			return err
		}
		return emit(Piece{Text: text, Host: g.Host, Digest: g.Model.Digest})
	})
	return generation(g), err
}
