package ollamatest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/models/ollama/ollamatest"
	"github.com/soteai/gateway/models/ollama/tinygguf"
)

var client = &http.Client{Timeout: 2 * time.Minute}

func post(ctx context.Context, url string, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return client.Do(req)
}

// stream posts body to base+path and decodes each NDJSON line into a map.
func stream(t *testing.T, base, path string, body any) []map[string]any {
	t.Helper()
	resp, err := post(t.Context(), base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %s", path, resp.Status)
	}
	var chunks []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("POST %s: bad line %q: %v", path, sc.Text(), err)
		}
		if e, ok := m["error"]; ok {
			t.Fatalf("POST %s: in-stream error %v", path, e)
		}
		chunks = append(chunks, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return chunks
}

// checkText checks a streamed reply: several chunks, only characters of the
// model's alphabet, and a final chunk that says it stopped at the length.
func checkText(t *testing.T, chunks []map[string]any, text func(map[string]any) string, numPredict int) {
	t.Helper()
	if len(chunks) < 2 {
		t.Fatalf("got %d chunks, want a stream of several", len(chunks))
	}
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(text(c))
	}
	got := b.String()
	if got == "" || strings.Trim(got, tinygguf.Alphabet) != "" {
		t.Errorf("reply %q has characters outside %q", got, tinygguf.Alphabet)
	}
	last := chunks[len(chunks)-1]
	if last["done"] != true || last["done_reason"] != "length" {
		t.Errorf("last chunk done=%v done_reason=%v, want true, length", last["done"], last["done_reason"])
	}
	if n, _ := last["eval_count"].(float64); int(n) != numPredict {
		t.Errorf("eval_count %v, want %d", last["eval_count"], numPredict)
	}
}

func generate(t *testing.T, base, model string) {
	t.Helper()
	const n = 12
	chunks := stream(t, base, "/api/generate", map[string]any{
		"model": model, "prompt": "Mitä kuuluu?", "options": map[string]any{"num_predict": n, "seed": 7},
	})
	checkText(t, chunks, func(m map[string]any) string { s, _ := m["response"].(string); return s }, n)
}

func TestStackServer(t *testing.T) {
	base, model := ollamatest.URL(t), ollamatest.Model(t)

	t.Run("generate streams", func(t *testing.T) { generate(t, base, model) })

	t.Run("chat streams", func(t *testing.T) {
		const n = 20
		chunks := stream(t, base, "/api/chat", map[string]any{
			"model": model,
			"messages": []map[string]string{
				{"role": "system", "content": "Vastaa lyhyesti."},
				{"role": "user", "content": "Hei!"},
			},
			"options": map[string]any{"num_predict": n},
		})
		checkText(t, chunks, func(m map[string]any) string {
			msg, _ := m["message"].(map[string]any)
			s, _ := msg["content"].(string)
			return s
		}, n)
	})

	t.Run("embed", func(t *testing.T) {
		resp, err := post(t.Context(), base+"/api/embed", map[string]any{
			"model": model, "input": []string{"verenpaine 120/80", "kuume ja yskä", "verenpaine 120/80"},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s", resp.Status)
		}
		var out struct {
			Embeddings [][]float64 `json:"embeddings"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if len(out.Embeddings) != 3 {
			t.Fatalf("got %d embeddings, want 3", len(out.Embeddings))
		}
		for i, e := range out.Embeddings {
			if len(e) != tinygguf.Default().EmbeddingLength {
				t.Fatalf("embedding %d has %d dimensions, want %d", i, len(e), tinygguf.Default().EmbeddingLength)
			}
			var norm float64
			for _, v := range e {
				norm += v * v
			}
			if math.Abs(math.Sqrt(norm)-1) > 1e-3 {
				t.Errorf("embedding %d has norm %v, want 1", i, math.Sqrt(norm))
			}
		}
		if cosine(out.Embeddings[0], out.Embeddings[2]) < 0.9999 {
			t.Error("the same text embeds differently")
		}
		if cosine(out.Embeddings[0], out.Embeddings[1]) > 0.9999 {
			t.Error("different texts embed the same")
		}
	})
}

func cosine(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s // both are unit vectors
}

func TestStartStopRestart(t *testing.T) {
	model := ollamatest.Model(t)
	srv := ollamatest.Start(t, "OLLAMA_NUM_PARALLEL=2")
	if srv.URL != "http://"+srv.Addr {
		t.Fatalf("URL %q does not match Addr %q", srv.URL, srv.Addr)
	}
	generate(t, srv.URL, model)
	if _, err := os.Stat(filepath.Join(srv.Home, ".ollama", "id_ed25519")); err != nil {
		t.Errorf("the server wrote no key pair under Home: %v", err)
	}

	down := func(t *testing.T) {
		t.Helper()
		resp, err := client.Get(srv.URL + "/api/version")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("stopped server answered %s", resp.Status)
		}
	}
	for _, tc := range []struct {
		name string
		stop func() error
	}{
		{"stop", srv.Stop},
		{"kill", srv.Kill},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.stop(); err != nil {
				t.Fatal(err)
			}
			down(t)
			if err := tc.stop(); err != nil {
				t.Fatalf("second %s: %v", tc.name, err)
			}
			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			if err := srv.Restart(); err == nil {
				t.Error("Restart of a running server did not fail")
			}
			generate(t, srv.URL, model)
		})
	}
}
