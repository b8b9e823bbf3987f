package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
)

// TestRetrievalThroughGateway ingests over HTTP as an admin and searches as
// a clinician, with embeddings from the real Ollama through the host pool.
func TestRetrievalThroughGateway(t *testing.T) {
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), "models:\n  embedding: "+testModel()+"\n")
	doc := "# Verenpaine\n\n## Kotimittaus\n\nKotimittaus on suositeltava tapa seurata verenpainetta. Mittaa aamulla ja illalla.\n\n## Lääkitys\n\nLääkitys aloitetaan, jos elintapamuutokset eivät riitä.\n"
	path := "/v1/retrieval/collections/ohjeet/documents?source=verenpaine.md&title=Verenpaine&lang=fi"
	resp := g.do(t, assist.RoleAdmin, "POST", path, doc, "Content-Type", "text/markdown; charset=utf-8")
	if body := readAll(t, resp); resp.StatusCode != 201 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	resp = g.do(t, assist.RoleAdmin, "POST", path, doc, "Content-Type", "text/markdown; charset=utf-8")
	if body := readAll(t, resp); resp.StatusCode != 200 {
		t.Fatalf("re-ingest: %d %s", resp.StatusCode, body)
	}
	resp = g.do(t, assist.RoleClinician, "POST", path, doc, "Content-Type", "text/markdown")
	if body := readAll(t, resp); resp.StatusCode != 403 {
		t.Fatalf("a clinician ingesting: %d %s", resp.StatusCode, body)
	}

	resp = g.do(t, assist.RoleClinician, "POST", "/v1/retrieval/search", `{"collection":"ohjeet","text":"kotimittaus","mode":"hybrid","k":3}`)
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Results []struct {
			Text        string   `json:"text"`
			HeadingPath []string `json:"heading_path"`
			Start, End  int
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Results) == 0 {
		t.Fatalf("search results: %v %s", err, body)
	}
	top := out.Results[0]
	if !strings.Contains(top.Text, "Kotimittaus on suositeltava") || strings.Join(top.HeadingPath, " > ") != "Verenpaine > Kotimittaus" {
		t.Fatalf("top result %+v", top)
	}
	if got := string([]rune(doc)[top.Start:top.End]); got != top.Text {
		t.Fatalf("offsets [%d,%d) do not cite the text: %q", top.Start, top.End, got)
	}
	resp = g.do(t, assist.RoleClinician, "POST", "/v1/retrieval/search", `{"collection":"ohjeet","text":"x","model":"other-model"}`)
	if body := readAll(t, resp); resp.StatusCode != 409 || !strings.Contains(body, `"conflict"`) {
		t.Fatalf("search with another embedding model: %d %s", resp.StatusCode, body)
	}
}
