package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/openai/openai-go"
	"github.com/openai/openai-go/option"
	"golang.org/x/crypto/ssh"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/models/ollama/ollamatest"
)

// bearer adds a bearer token to every request.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func TestOllamaGoClientStreamsAndEmbeds(t *testing.T) {
	t.Parallel()
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), "")
	u, _ := url.Parse(g.URL)
	cl := api.NewClient(u, &http.Client{Transport: bearer{g.Tokens[assist.RoleClinician], http.DefaultTransport}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var chunks int
	var last api.ChatResponse
	err := cl.Chat(ctx, &api.ChatRequest{
		Model:    testModel(),
		Messages: []api.Message{{Role: "user", Content: promptMarker}},
		Options:  map[string]any{"num_predict": 8, "seed": 1},
	}, func(r api.ChatResponse) error {
		chunks++
		last = r
		return nil
	})
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	if chunks < 2 || !last.Done || last.EvalCount == 0 {
		t.Fatalf("want a stream of several chunks ending done with counts; got %d chunks, last %+v", chunks, last)
	}

	emb, err := cl.Embed(ctx, &api.EmbedRequest{Model: testModel(), Input: []string{"verenpaine", "blodtryck"}})
	if err != nil {
		t.Fatalf("embed: %v", err)
	}
	if len(emb.Embeddings) != 2 || len(emb.Embeddings[0]) == 0 {
		t.Fatalf("want 2 embeddings, got %d", len(emb.Embeddings))
	}

	list, err := cl.List(ctx)
	if err != nil || len(list.Models) == 0 {
		t.Fatalf("list: %v %+v", err, list)
	}
	if _, err := cl.Show(ctx, &api.ShowRequest{Model: testModel()}); err != nil {
		t.Fatalf("show: %v", err)
	}
}

func TestOpenAISDKStreamsAndEmbeds(t *testing.T) {
	t.Parallel()
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), "")
	cl := openai.NewClient(option.WithBaseURL(g.URL+"/v1/"), option.WithAPIKey(g.Tokens[assist.RoleService]), option.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	stream := cl.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:     testModel(),
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage(promptMarker)},
		MaxTokens: openai.Int(8),
	})
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if chunks < 2 || len(acc.Choices) != 1 || acc.Choices[0].FinishReason == "" {
		t.Fatalf("want a streamed completion; got %d chunks, %+v", chunks, acc.Choices)
	}

	emb, err := cl.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: testModel(),
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"munuaisten vajaatoiminta", "kidney failure"}},
	})
	if err != nil {
		t.Fatalf("embeddings: %v", err)
	}
	if len(emb.Data) != 2 || len(emb.Data[0].Embedding) == 0 {
		t.Fatalf("want 2 embeddings, got %+v", emb.Data)
	}
	models, err := cl.Models.List(ctx)
	if err != nil || len(models.Data) == 0 {
		t.Fatalf("models: %v", err)
	}
	// Retrieve, as the SDKs call it, with and without the implied tag.
	for _, id := range []string{testModel(), models.Data[0].ID} {
		m, err := cl.Models.Get(ctx, id)
		if err != nil || m.ID != models.Data[0].ID || m.Object != "model" {
			t.Fatalf("retrieve %q: %+v %v", id, m, err)
		}
	}
	var apiErr *openai.Error
	if _, err := cl.Models.Get(ctx, "no-such/model:x"); err == nil || !asOpenAIError(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("retrieve an unknown model: want a 404 OpenAI error, got %v", err)
	}

	// The SDK surfaces the gateway's errors in OpenAI's shape.
	_, err = cl.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "no-such-model",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
	})
	if err == nil || !asOpenAIError(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Type != "not_found" {
		t.Fatalf("unknown model: want a 404 not_found OpenAI error, got %v", err)
	}
}

func asOpenAIError(err error, target **openai.Error) bool {
	e, ok := err.(*openai.Error)
	if ok {
		*target = e
	}
	return ok
}

// writeOllamaKey writes an ed25519 key where the ollama CLI looks for it.
func writeOllamaKey(t *testing.T, home string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".ollama")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "id_ed25519"), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
}

func TestOllamaCLIWithKeys(t *testing.T) {
	t.Parallel()
	bin := ollamatest.Bin(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), "")
	registered, unregistered := t.TempDir(), t.TempDir()
	pub := writeOllamaKey(t, registered)
	writeOllamaKey(t, unregistered)
	if _, err := auth.NewStore(g.DB).AddOllamaKey(context.Background(), "cli-user", assist.RoleClinician, "test county", pub); err != nil {
		t.Fatal(err)
	}
	cli := func(home string, useAuth bool, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = []string{"HOME=" + home, "OLLAMA_HOST=" + g.URL, "PATH=" + os.Getenv("PATH"), "TERM=dumb", "NO_COLOR=1"}
		if useAuth {
			cmd.Env = append(cmd.Env, "OLLAMA_AUTH=1")
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := cli(registered, true, "list")
	if err != nil || !strings.Contains(out, testModel()) {
		t.Fatalf("ollama list with a registered key: %v\n%s", err, out)
	}
	out, err = cli(registered, true, "show", testModel())
	if err != nil || !strings.Contains(out, "llama") {
		t.Fatalf("ollama show with a registered key: %v\n%s", err, out)
	}
	out, err = cli(registered, true, "run", testModel(), promptMarker)
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("ollama run with a registered key: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name    string
		home    string
		useAuth bool
	}{
		{"unregistered key", unregistered, true},
		{"no key", unregistered, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{{"list"}, {"show", testModel()}, {"run", testModel(), promptMarker}} {
				if out, err := cli(tc.home, tc.useAuth, args...); err == nil {
					t.Errorf("ollama %v was served:\n%s", args, out)
				}
			}
		})
	}
	if !strings.Contains(g.Logs.String(), `"kind":"unauthorized"`) {
		t.Error("refusals were not logged with their kind")
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), "limits:\n  max_body_bytes: 4096\n")
	model := testModel()
	big := `{"model":"` + model + `","prompt":"` + strings.Repeat("a", 5000) + `"}`
	for _, tc := range []struct {
		name, path, body string
		role             assist.Role
		hdr              []string
		status           int
		kind             string
	}{
		{"malformed JSON ollama", "/api/chat", `{"model": "tiny", "messages": [`, assist.RoleClinician, nil, 400, "invalid"},
		{"malformed JSON openai", "/v1/chat/completions", `not json`, assist.RoleClinician, nil, 400, "invalid"},
		{"wrong field type", "/api/generate", `{"model": 42}`, assist.RoleClinician, nil, 400, "invalid"},
		{"empty body", "/api/embed", ``, assist.RoleClinician, nil, 400, "invalid"},
		{"missing model", "/api/generate", `{"prompt":"x"}`, assist.RoleClinician, nil, 400, "invalid"},
		{"unknown model ollama", "/api/generate", `{"model":"no-such-model","prompt":"x"}`, assist.RoleClinician, nil, 404, "not_found"},
		{"unknown model openai", "/v1/embeddings", `{"model":"no-such-model","input":"x"}`, assist.RoleClinician, nil, 404, "not_found"},
		{"oversize body", "/api/generate", big, assist.RoleClinician, nil, 413, "too_large"},
		{"wrong role", "/api/chat", `{"model":"` + model + `"}`, assist.RoleRiskReviewer, nil, 403, "forbidden"},
		{"admin only", "/v1/admin/hosts", ``, assist.RoleClinician, nil, 403, "forbidden"},
		{"no credentials", "/api/tags", ``, "", nil, 401, "unauthorized"},
		{"bad priority", "/api/generate", `{"model":"` + model + `","prompt":"x"}`, assist.RoleClinician, []string{"X-Sote-Priority", "urgent"}, 400, "invalid"},
		{"unknown route", "/api/nope", `{}`, assist.RoleClinician, nil, 404, "not_found"},
		{"model pull refused", "/api/pull", `{"model":"llama3"}`, assist.RoleAdmin, nil, 403, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if tc.body == "" && (strings.HasPrefix(tc.path, "/v1/admin") || tc.path == "/api/tags") {
				method = "GET"
			}
			resp := g.do(t, tc.role, method, tc.path, tc.body, tc.hdr...)
			body := readAll(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				t.Fatalf("error body is not JSON: %s", body)
			}
			kind, msg := errorFields(tc.path, v)
			if kind != tc.kind || msg == "" {
				t.Fatalf("kind %q message %q, want kind %q and a message: %s", kind, msg, tc.kind, body)
			}
		})
	}
}

// errorFields reads kind and message from any of the three error shapes.
func errorFields(path string, v map[string]any) (kind, msg string) {
	switch e := v["error"].(type) {
	case string:
		k, _ := v["kind"].(string)
		return k, e
	case map[string]any:
		m, _ := e["message"].(string)
		if k, ok := e["kind"].(string); ok {
			return k, m
		}
		k, _ := e["type"].(string)
		return k, m
	}
	return "", ""
}
