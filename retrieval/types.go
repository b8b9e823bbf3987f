package retrieval

import (
	"context"
	"strconv"
	"time"

	"github.com/soteai/gateway/assist"
)

// Embedder turns texts into vectors; the gateway's host pool implements it.
type Embedder interface {
	// Embed returns one vector per input, in input order, and the digest
	// of the model that computed them (Ollama's model digest). pri is the
	// scheduling class: ingestion and re-embedding use batch, searches
	// interactive. Errors carry assist kinds: not_found for an unknown
	// model, busy, unavailable, upstream, timeout or canceled.
	Embed(ctx context.Context, pri assist.Priority, model string, inputs []string) (vectors [][]float32, digest string, err error)
}

// EmbeddingModel identifies the model whose vectors a collection holds.
type EmbeddingModel struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	Dims   int    `json:"dims"`
}

// IndexParams tune a collection's HNSW index (pgvector): M links per node
// and EfConstruction candidates while building; EfSearch candidates per
// query (recall versus latency).
type IndexParams struct {
	M              int `json:"m"`
	EfConstruction int `json:"ef_construction"`
	EfSearch       int `json:"ef_search"`
}

// DefaultIndexParams reach recall@10 ≥ 0.95 on the benchmark (see README).
var DefaultIndexParams = IndexParams{M: 16, EfConstruction: 64, EfSearch: 100}

// WithDefaults fills zero fields from DefaultIndexParams.
func (p IndexParams) WithDefaults() IndexParams {
	if p.M == 0 {
		p.M = DefaultIndexParams.M
	}
	if p.EfConstruction == 0 {
		p.EfConstruction = max(DefaultIndexParams.EfConstruction, 2*p.M)
	}
	if p.EfSearch == 0 {
		p.EfSearch = DefaultIndexParams.EfSearch
	}
	return p
}

// Validate checks the ranges pgvector accepts.
func (p IndexParams) Validate() error {
	switch {
	case p.M < 2 || p.M > 100:
		return assist.Errorf(assist.KindInvalid, "HNSW m must be between 2 and 100")
	case p.EfConstruction < 2*p.M || p.EfConstruction > 1000:
		return assist.Errorf(assist.KindInvalid, "HNSW ef_construction must be between 2·m and 1000")
	case p.EfSearch < 1 || p.EfSearch > 1000:
		return assist.Errorf(assist.KindInvalid, "HNSW ef_search must be between 1 and 1000")
	}
	return nil
}

// Collection is a named set of documents embedded with one model.
type Collection struct {
	ID             int64          `json:"id"`
	Name           string         `json:"name"`
	Model          EmbeddingModel `json:"model"`
	Index          IndexParams    `json:"index"`
	QueryPrefix    string         `json:"query_prefix,omitempty"`    // prepended to queries before embedding
	DocumentPrefix string         `json:"document_prefix,omitempty"` // prepended to chunks before embedding
	Documents      int            `json:"documents"`                 // counts, filled by listings
	Chunks         int            `json:"chunks"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

// Document is a stored document. Text is the normalised text all chunk
// offsets refer to; listings leave it empty.
type Document struct {
	ID           int64             `json:"id"`
	CollectionID int64             `json:"collection_id"`
	Source       string            `json:"source"` // the caller's stable key: file name or URI
	Title        string            `json:"title"`
	Format       Format            `json:"format"`
	Lang         string            `json:"lang"`      // ISO 639-1, or "und"
	TSConfig     string            `json:"ts_config"` // PostgreSQL text-search configuration
	ContentHash  string            `json:"content_hash"`
	Chunking     string            `json:"chunking"` // ChunkOptions.Signature
	Chars        int               `json:"chars"`
	Chunks       int               `json:"chunks"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Text         string            `json:"-"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// StoredChunk is a chunk with the vector to store for it.
type StoredChunk struct {
	Chunk
	Embedding []float32
}

// Mode selects the ranking of a search.
type Mode string

const (
	ModeVector   Mode = "vector"   // nearest embeddings (HNSW, cosine distance)
	ModeFullText Mode = "fulltext" // PostgreSQL full-text search, ts_rank_cd
	ModeHybrid   Mode = "hybrid"   // both, fused by reciprocal rank
)

// ParseMode validates a mode name; "" means hybrid.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "":
		return ModeHybrid, nil
	case ModeVector, ModeFullText, ModeHybrid:
		return m, nil
	}
	return "", assist.Errorf(assist.KindInvalid, "unknown search mode %q (want vector, fulltext or hybrid)", s)
}

// Query is a search request.
type Query struct {
	Collection string            `json:"collection"`
	Text       string            `json:"text"`
	Mode       Mode              `json:"mode,omitempty"`
	Languages  []string          `json:"languages,omitempty"` // only documents in these languages
	Metadata   map[string]string `json:"metadata,omitempty"`  // only documents whose metadata contains these pairs
	K          int               `json:"k,omitempty"`         // results wanted; 0 means 10
	// Model, when set, must be the collection's embedding model: a caller
	// that embeds with another model would compare unrelated vectors.
	Model string `json:"model,omitempty"`
	// EfSearch overrides the collection's HNSW ef_search for this query.
	EfSearch int `json:"ef_search,omitempty"`
}

// Scores explains a result's rank. Pointers are nil when the result was
// not found by that ranking.
type Scores struct {
	VectorDistance *float64 `json:"vector_distance,omitempty"` // cosine distance: 0 same direction, 2 opposite
	VectorRank     int      `json:"vector_rank,omitempty"`     // 1-based rank among vector hits
	TSRank         *float64 `json:"ts_rank,omitempty"`         // ts_rank_cd normalised to [0,1)
	TextRank       int      `json:"text_rank,omitempty"`       // 1-based rank among full-text hits
	RRF            float64  `json:"rrf,omitempty"`             // fused score (hybrid)
}

// Result is one passage found by a search, with what a citation needs.
type Result struct {
	ChunkID     int64             `json:"chunk_id"`
	DocumentID  int64             `json:"document_id"`
	Title       string            `json:"title"`
	Source      string            `json:"source"`
	Lang        string            `json:"lang"`
	HeadingPath []string          `json:"heading_path"`
	Start       int               `json:"start"` // code-point offsets into the document text
	End         int               `json:"end"`
	Text        string            `json:"text"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	Scores      Scores            `json:"scores"`
}

// Hits is what a search found: the passages, best first, with the
// collection's embedding model, so a caller can record which model release
// ranked them (full-text searches do not call the model; the collection's
// model is reported all the same).
type Hits struct {
	Collection string         `json:"collection"`
	Mode       Mode           `json:"mode"`
	Model      EmbeddingModel `json:"model"`
	Results    []Result       `json:"results"` // never nil
}

// SourceIDs returns the results' chunk ids in rank order, in the form the
// audit log records retrieved sources ("chunk:42").
func (h Hits) SourceIDs() []string {
	ids := make([]string, len(h.Results))
	for i, r := range h.Results {
		ids[i] = r.SourceID()
	}
	return ids
}

// SourceID is the result's id as an audit source: "chunk:" and the chunk
// id. Chunk ids are not reused: a replaced document gets new chunks.
func (r Result) SourceID() string { return "chunk:" + strconv.FormatInt(r.ChunkID, 10) }

// StoreQuery is a search as the Store runs it: either or both rankings.
type StoreQuery struct {
	Vector    []float32 // nil: no vector ranking
	Text      string    // "": no full-text ranking
	Languages []string
	Metadata  map[string]string
	Limit     int // per ranking
	EfSearch  int
	// AnyTerm makes the lexical ranking match a chunk that has any of the
	// query's words (the lexical half of hybrid search, where a natural
	// question's words rarely all occur in one passage); otherwise every
	// word must match (full-text mode, with web-search syntax).
	AnyTerm bool
}

// PutStatus tells what an ingest changed.
type PutStatus string

const (
	StatusCreated   PutStatus = "created"
	StatusUpdated   PutStatus = "updated"
	StatusUnchanged PutStatus = "unchanged"
)

// ChunkRef is a stored chunk's id and embedding input, for re-embedding.
type ChunkRef struct {
	ID          int64
	Title       string
	HeadingPath []string
	Text        string
}

// Store keeps collections, documents, chunks and vectors. retrieval/pgstore
// implements it with PostgreSQL and pgvector. Unless a method says
// otherwise, errors are not_found for a missing collection or document,
// conflict for a state race, unavailable when the database is down.
type Store interface {
	// Collection returns a collection; document and chunk counts are
	// filled only withCounts (counting costs a scan of the collection).
	Collection(ctx context.Context, name string, withCounts bool) (Collection, error)
	// CreateCollection creates c with its vector index, or returns the
	// existing collection of that name unchanged.
	CreateCollection(ctx context.Context, c Collection) (Collection, error)
	// Collections lists every collection with counts, by name.
	Collections(ctx context.Context) ([]Collection, error)
	// DeleteCollection removes a collection, its documents, chunks and index.
	DeleteCollection(ctx context.Context, name string) error

	// Document returns a document (with its text) by id.
	Document(ctx context.Context, collection string, id int64) (Document, error)
	// DocumentBySource returns a document (without its text) by source key.
	DocumentBySource(ctx context.Context, collectionID int64, source string) (Document, error)
	// Documents lists a collection's documents with chunk counts, by source.
	Documents(ctx context.Context, collection string) ([]Document, error)
	// DeleteDocument removes a document and its chunks and returns the
	// document as it was (without its text).
	DeleteDocument(ctx context.Context, collection string, id int64) (Document, error)
	// Embeddings returns the stored vectors of the collection's chunks
	// whose hash is among hashes, to reuse them for unchanged passages.
	Embeddings(ctx context.Context, collectionID int64, hashes []string) (map[string][]float32, error)
	// PutDocument inserts or updates doc (by collection and source) and
	// replaces all its chunks, in one transaction. It returns conflict when
	// the collection's model is no longer model (re-embedded meanwhile).
	PutDocument(ctx context.Context, doc Document, chunks []StoredChunk, model EmbeddingModel) (id int64, status PutStatus, err error)

	// Search runs the vector and/or full-text ranking of q in c.
	Search(ctx context.Context, c Collection, q StoreQuery) (vector, text []Result, err error)

	// StageChunks lists chunks after afterID, by id; with unstagedOnly,
	// only those without a staged vector.
	StageChunks(ctx context.Context, collectionID, afterID int64, limit int, unstagedOnly bool) ([]ChunkRef, error)
	// ClearStaged drops vectors staged by an earlier, unfinished re-embed.
	ClearStaged(ctx context.Context, collectionID int64) error
	// Stage stores new vectors for chunks beside their current ones.
	Stage(ctx context.Context, collectionID int64, ids []int64, vectors [][]float32) error
	// SwapStaged atomically replaces every chunk's vector with its staged
	// one, rebuilds the vector index for model and records model, index
	// and prefixes on the collection. It returns the number of chunks
	// still without a staged vector (then it changes nothing).
	SwapStaged(ctx context.Context, c Collection) (missing int, err error)
}
