package retrieval

import (
	"maps"
	"testing"
)

func TestChangeAttrs(t *testing.T) {
	model := EmbeddingModel{Name: "e5", Digest: "sha256:aa", Dims: 384}
	tests := []struct {
		name string
		got  map[string]string
		want map[string]string
	}{
		{name: "ingest refused", got: IngestAttrs("guides", "a.md", nil),
			want: map[string]string{"collection": "guides", "source": "a.md"}},
		{name: "ingest applied", got: IngestAttrs("guides", "a.md", &IngestResult{DocumentID: 7, Status: StatusUpdated, Chunks: 3, Embedded: 1,
			Lang: "fi", ContentHash: "c0ffee", Model: model}),
			want: map[string]string{"collection": "guides", "source": "a.md", "document_id": "7", "content_hash": "c0ffee",
				"put_status": "updated", "lang": "fi", "chunks": "3", "embedded": "1"}},
		{name: "unchanged ingest embeds nothing", got: IngestAttrs("guides", "a.md", &IngestResult{DocumentID: 7, Status: StatusUnchanged, Chunks: 3,
			Lang: "fi", ContentHash: "c0ffee"}),
			want: map[string]string{"collection": "guides", "source": "a.md", "document_id": "7", "content_hash": "c0ffee",
				"put_status": "unchanged", "lang": "fi", "chunks": "3", "embedded": "0"}},
		{name: "document delete refused", got: DeleteDocumentAttrs("guides", 9, nil),
			want: map[string]string{"collection": "guides", "document_id": "9"}},
		{name: "document delete applied", got: DeleteDocumentAttrs("guides", 9, &Document{ID: 9, Source: "a.md", Lang: "sv", ContentHash: "feed"}),
			want: map[string]string{"collection": "guides", "document_id": "9", "source": "a.md", "content_hash": "feed", "lang": "sv"}},
		{name: "collection delete refused", got: DeleteCollectionAttrs("guides", nil),
			want: map[string]string{"collection": "guides"}},
		{name: "collection delete applied", got: DeleteCollectionAttrs("guides", &Collection{Name: "guides", Documents: 2, Chunks: 5}),
			want: map[string]string{"collection": "guides", "documents": "2", "chunks": "5"}},
		{name: "reembed", got: ReembedAttrs(EmbeddingModel{Name: "bow", Digest: "sha256:bb"},
			Collection{Name: "guides", Model: model, Index: IndexParams{M: 16, EfConstruction: 64, EfSearch: 100}, Documents: 2, Chunks: 5}),
			want: map[string]string{"collection": "guides", "previous_model": "bow", "previous_digest": "sha256:bb", "dims": "384",
				"documents": "2", "chunks": "5", "hnsw_m": "16", "hnsw_ef_construction": "64", "hnsw_ef_search": "100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !maps.Equal(tt.got, tt.want) {
				t.Errorf("got  %v\nwant %v", tt.got, tt.want)
			}
		})
	}
}
