package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
)

// TestRetrievalThroughGateway ingests over HTTP as an admin and searches as
// a clinician, with embeddings from the real Ollama through the host pool;
// every search and document change is in the verified audit log.
func TestRetrievalThroughGateway(t *testing.T) {
	t.Parallel()
	ay := auditYAML(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), ay+"models:\n  embedding: "+testModel()+"\n")
	ctx := context.Background()
	doc := "# Verenpaine\n\n## Kotimittaus\n\nKotimittaus on suositeltava tapa seurata verenpainetta. Mittaa aamulla ja illalla.\n\n## Lääkitys\n\nLääkitys aloitetaan, jos elintapamuutokset eivät riitä.\n"
	path := "/v1/retrieval/collections/ohjeet/documents?source=verenpaine.md&title=Verenpaine&lang=fi"
	resp := g.do(t, assist.RoleAdmin, "POST", path, doc, "Content-Type", "text/markdown; charset=utf-8")
	body := readAll(t, resp)
	if resp.StatusCode != 201 {
		t.Fatalf("ingest: %d %s", resp.StatusCode, body)
	}
	var ingested struct {
		DocumentID  int64  `json:"document_id"`
		ContentHash string `json:"content_hash"`
	}
	if err := json.Unmarshal([]byte(body), &ingested); err != nil || ingested.DocumentID == 0 || len(ingested.ContentHash) != 64 {
		t.Fatalf("ingest result %s: %v", body, err)
	}
	ingest := auditRecord(t, g, resp.Header.Get("X-Sote-Audit-Seq"))
	if ingest.Kind != audit.KindRetrievalIngest || ingest.Attrs["document_id"] != strconv.FormatInt(ingested.DocumentID, 10) ||
		ingest.Attrs["content_hash"] != ingested.ContentHash || ingest.Attrs["put_status"] != "created" ||
		ingest.ActorRole != assist.RoleAdmin || ingest.Model != testModel() || ingest.ModelDigest == "" {
		t.Fatalf("ingest audit record %+v", ingest)
	}
	if sum := sha256.Sum256([]byte(doc)); !slices.Equal(ingest.InputHash, sum[:]) {
		t.Fatal("the ingest record does not hold the hash of the uploaded document")
	}
	resp = g.do(t, assist.RoleAdmin, "POST", path, doc, "Content-Type", "text/markdown; charset=utf-8")
	if body := readAll(t, resp); resp.StatusCode != 200 {
		t.Fatalf("re-ingest: %d %s", resp.StatusCode, body)
	}
	if again := auditRecord(t, g, resp.Header.Get("X-Sote-Audit-Seq")); again.Attrs["put_status"] != "unchanged" {
		t.Fatalf("re-ingest audit record %+v", again)
	}
	resp = g.do(t, assist.RoleClinician, "POST", path, doc, "Content-Type", "text/markdown")
	if body := readAll(t, resp); resp.StatusCode != 403 || resp.Header.Get("X-Sote-Audit-Seq") != "" {
		t.Fatalf("a clinician ingesting: %d %s", resp.StatusCode, body)
	}

	query := `{"collection":"ohjeet","text":"kotimittaus","mode":"hybrid","k":3}`
	resp = g.do(t, assist.RoleClinician, "POST", "/v1/retrieval/search", query)
	body = readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Model struct {
			Name, Digest string
		} `json:"model"`
		Results []struct {
			ChunkID     int64    `json:"chunk_id"`
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

	// The search's record: who, which model release, the exact request and
	// response, and the returned chunks in rank order.
	search := auditRecord(t, g, resp.Header.Get("X-Sote-Audit-Seq"))
	var sources []string
	for _, r := range out.Results {
		sources = append(sources, "chunk:"+strconv.FormatInt(r.ChunkID, 10))
	}
	inSum, outSum := sha256.Sum256([]byte(query)), sha256.Sum256([]byte(body))
	switch {
	case search.Kind != audit.KindRetrievalSearch || search.Task != assist.TaskRetrieval || search.Outcome != audit.OutcomeOK:
		t.Fatalf("search audit record %+v", search)
	case !slices.Equal(search.Sources, sources):
		t.Fatalf("recorded sources %q, want %q", search.Sources, sources)
	case search.Model != testModel() || out.Model.Name != testModel() || search.ModelDigest == "" || search.ModelDigest != out.Model.Digest ||
		search.ModelDigest != ingest.ModelDigest:
		t.Fatalf("recorded model %s@%s, answer %+v, ingest %s", search.Model, search.ModelDigest, out.Model, ingest.ModelDigest)
	case !slices.Equal(search.InputHash, inSum[:]) || !slices.Equal(search.OutputHash, outSum[:]):
		t.Fatal("the search record's hashes are not those of the exact request and response")
	case search.ActorRole != assist.RoleClinician || search.ActorTokenID == "" || search.LatencyMicros <= 0:
		t.Fatalf("search audit record actor/latency %+v", search)
	}

	resp = g.do(t, assist.RoleClinician, "POST", "/v1/retrieval/search", `{"collection":"ohjeet","text":"x","model":"other-model"}`)
	if body := readAll(t, resp); resp.StatusCode != 409 || !strings.Contains(body, `"conflict"`) {
		t.Fatalf("search with another embedding model: %d %s", resp.StatusCode, body)
	}
	resp = g.do(t, assist.RoleAdmin, "DELETE", "/v1/retrieval/collections/ohjeet/documents/"+strconv.FormatInt(ingested.DocumentID, 10), "")
	if body := readAll(t, resp); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if del := auditRecord(t, g, resp.Header.Get("X-Sote-Audit-Seq")); del.Kind != audit.KindRetrievalDelete || del.Attrs["content_hash"] != ingested.ContentHash {
		t.Fatalf("delete audit record %+v", del)
	}

	// The refused search is recorded too; the whole log verifies.
	var refused int
	if err := g.DB.QueryRow(ctx, `SELECT count(*) FROM audit_records WHERE kind = $1 AND outcome = 'error' AND error_kind = 'conflict'`,
		string(audit.KindRetrievalSearch)).Scan(&refused); err != nil || refused != 1 {
		t.Fatalf("refused search records: %d %v", refused, err)
	}
	rep, err := audit.VerifyDB(ctx, g.DB, audit.VerifyOptions{PublicKey: auditPublicKey(t, ay)})
	if err != nil || !rep.OK() {
		t.Fatalf("audit log: %v %v", err, rep)
	}
}

// auditRecord reads the record whose sequence number a response's
// X-Sote-Audit-Seq header gave.
func auditRecord(t *testing.T, g *gateway, seqHeader string) audit.Record {
	t.Helper()
	seq, err := strconv.ParseInt(seqHeader, 10, 64)
	if err != nil {
		t.Fatalf("no audit sequence header (%q)", seqHeader)
	}
	var r audit.Record
	var sources, attrs []byte
	if err := g.DB.QueryRow(context.Background(), `SELECT seq, kind, task, actor_token_id, actor_role, model, model_digest,
		input_sha256, output_sha256, sources, latency_us, outcome, attrs FROM audit_records WHERE seq = $1`, seq).Scan(
		&r.Seq, &r.Kind, &r.Task, &r.ActorTokenID, &r.ActorRole, &r.Model, &r.ModelDigest,
		&r.InputHash, &r.OutputHash, &sources, &r.LatencyMicros, &r.Outcome, &attrs); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sources, &r.Sources); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(attrs, &r.Attrs); err != nil {
		t.Fatal(err)
	}
	return r
}
