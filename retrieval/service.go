package retrieval

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
)

// Config wires a Service. Store and Embedder are required.
type Config struct {
	Store    Store
	Embedder Embedder
	// DefaultModel embeds a new collection when the ingest names no model.
	DefaultModel string
	// Index is used for new collections; zero fields take defaults.
	Index    IndexParams
	Chunking ChunkOptions
	Parse    ParseOptions
	// BatchSize is the number of inputs per embedding call; 0 means 32.
	BatchSize int
	// MaxQueryChars limits search text; 0 means 2000.
	MaxQueryChars int
	Logger        *slog.Logger
}

// Service ingests documents and searches them. It is safe for concurrent use.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Embedder == nil {
		return nil, errors.New("retrieval.New: Store and Embedder are required")
	}
	cfg.Index = cfg.Index.WithDefaults()
	if err := cfg.Index.Validate(); err != nil {
		return nil, err
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 32
	}
	if cfg.MaxQueryChars <= 0 {
		cfg.MaxQueryChars = 2000
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: log}, nil
}

// MaxDocumentBytes is the largest document Ingest accepts.
func (s *Service) MaxDocumentBytes() int64 {
	if s.cfg.Parse.MaxBytes > 0 {
		return s.cfg.Parse.MaxBytes
	}
	return DefaultMaxBytes
}

var collectionName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// ValidCollectionName checks a collection name: 1–63 of a–z, 0–9, "_", ".",
// "-", starting with a letter or digit.
func ValidCollectionName(name string) error {
	if !collectionName.MatchString(name) {
		return assist.Errorf(assist.KindInvalid, "invalid collection name (use 1–63 lower-case letters, digits, '_', '.', '-')")
	}
	return nil
}

// IngestRequest is one document to add or update.
type IngestRequest struct {
	Collection string
	// Source is the document's stable key in the collection (a file name
	// or URI): ingesting the same source again replaces the document.
	Source   string
	Title    string // "" takes the document's own title, else Source
	Format   Format // "" detects from Source and content
	Lang     string // ISO 639-1 code; "" or "auto" detects
	Charset  string // declared encoding of text formats; "" means UTF-8
	Metadata map[string]string
	Data     []byte
	// Model embeds a new collection; for an existing one it must be the
	// collection's model. "" means the collection's or the default.
	Model string
	// Index and prefixes apply only when the collection is created.
	Index          IndexParams
	QueryPrefix    string
	DocumentPrefix string
	// Progress, if set, is called as chunks are embedded.
	Progress func(done, total int)
}

// IngestResult tells what an ingest did.
type IngestResult struct {
	DocumentID int64     `json:"document_id"`
	Status     PutStatus `json:"status"`
	Chunks     int       `json:"chunks"`
	Embedded   int       `json:"embedded"` // chunks sent to the model; the rest reused stored vectors
	Lang       string    `json:"lang"`
	// ContentHash is the SHA-256 of the document's normalised text (see
	// ContentHash); Model the collection's embedding model. Both are set
	// once the document is parsed and the collection known.
	ContentHash string         `json:"content_hash,omitempty"`
	Model       EmbeddingModel `json:"model"`
}

// Ingest parses, chunks, embeds and stores one document. Re-ingesting an
// unchanged document is a no-op; a changed one replaces its chunks in one
// transaction. Nothing is stored when any step fails. Errors: invalid and
// too_large for bad input, conflict when the model differs from the
// collection's, and the Embedder's and Store's kinds.
func (s *Service) Ingest(ctx context.Context, req IngestRequest) (IngestResult, error) {
	const op = "retrieval.Ingest"
	if err := ValidCollectionName(req.Collection); err != nil {
		return IngestResult{}, err
	}
	if err := validSource(req.Source); err != nil {
		return IngestResult{}, err
	}
	if err := validMetadata(req.Metadata); err != nil {
		return IngestResult{}, err
	}
	lang, err := NormalizeLang(req.Lang)
	if err != nil {
		return IngestResult{}, err
	}
	if int64(len(req.Data)) > s.MaxDocumentBytes() {
		return IngestResult{}, assist.E(assist.KindTooLarge, op, tooLargeMessage(s.MaxDocumentBytes()))
	}
	format := req.Format
	if format == "" {
		if format, err = DetectFormat(req.Source, req.Data); err != nil {
			return IngestResult{}, err
		}
	}
	popt := s.cfg.Parse
	popt.Charset = req.Charset
	parsed, err := Parse(ctx, format, req.Data, popt)
	if err != nil {
		return IngestResult{}, err
	}
	if lang == "" {
		lang = DetectLang(parsed.Text)
	}
	title := strings.TrimSpace(req.Title)
	if title == "" {
		title = parsed.Title
	}
	if title == "" {
		title = req.Source
	}
	parsed.Title = title
	chunks := ChunkDocument(parsed, s.cfg.Chunking)
	if len(chunks) == 0 {
		return IngestResult{}, assist.E(assist.KindInvalid, op, "the document has no text")
	}
	doc := Document{
		Source:      req.Source,
		Title:       title,
		Format:      format,
		Lang:        lang,
		TSConfig:    TextSearchConfig(lang),
		ContentHash: ContentHash(parsed.Text),
		Chunking:    s.cfg.Chunking.Signature(),
		Chars:       utf8.RuneCountInString(parsed.Text),
		Metadata:    req.Metadata,
		Text:        parsed.Text,
	}
	res := IngestResult{Chunks: len(chunks), Lang: lang, ContentHash: doc.ContentHash}

	coll, err := s.cfg.Store.Collection(ctx, req.Collection, false)
	exists := err == nil
	if err != nil && assist.KindOf(err) != assist.KindNotFound {
		return res, err
	}
	model := req.Model
	switch {
	case exists && model != "" && model != coll.Model.Name:
		return res, assist.E(assist.KindConflict, op, "collection "+coll.Name+" is embedded with model "+coll.Model.Name+", not "+model+"; use docs reembed to change it")
	case exists:
		model = coll.Model.Name
		res.Model = coll.Model
	case model == "":
		model = s.cfg.DefaultModel
	}
	if model == "" {
		return res, assist.E(assist.KindInvalid, op, "no embedding model: name one for the new collection")
	}

	var reuse map[string][]float32
	if exists {
		old, err := s.cfg.Store.DocumentBySource(ctx, coll.ID, req.Source)
		switch {
		case err == nil:
			doc.CollectionID = coll.ID
			if sameDocument(old, doc) {
				res.DocumentID, res.Status = old.ID, StatusUnchanged
				s.log.InfoContext(ctx, "retrieval: document unchanged", "collection", coll.ID, "document", old.ID)
				return res, nil
			}
		case assist.KindOf(err) != assist.KindNotFound:
			return res, err
		}
		hashes := make([]string, len(chunks))
		for i, c := range chunks {
			hashes[i] = c.Hash
		}
		if reuse, err = s.cfg.Store.Embeddings(ctx, coll.ID, hashes); err != nil {
			return res, err
		}
	}

	// Embed the passages the collection has no vector for, in batches.
	stored := make([]StoredChunk, len(chunks))
	var todo []int
	for i, c := range chunks {
		stored[i].Chunk = c
		if v, ok := reuse[c.Hash]; ok {
			stored[i].Embedding = v
		} else {
			todo = append(todo, i)
		}
	}
	prefix := req.DocumentPrefix
	if exists {
		prefix = coll.DocumentPrefix
	}
	inputs := make([]string, len(todo))
	for n, i := range todo {
		inputs[n] = prefix + EmbedText(title, chunks[i].HeadingPath, chunks[i].Text)
	}
	var want EmbeddingModel
	if exists {
		want = coll.Model
	}
	got, vecs, err := s.embedAll(ctx, model, want, inputs, req.Progress)
	if err != nil {
		return res, err
	}
	for n, i := range todo {
		stored[i].Embedding = vecs[n]
	}
	res.Embedded = len(todo)

	if !exists {
		idx := req.Index
		if idx == (IndexParams{}) {
			idx = s.cfg.Index
		}
		idx = idx.WithDefaults()
		if err := idx.Validate(); err != nil {
			return res, err
		}
		if got.Dims > 2000 {
			return res, assist.E(assist.KindInvalid, op, "the embedding model's vectors have more than 2000 dimensions, which the vector index cannot hold")
		}
		coll, err = s.cfg.Store.CreateCollection(ctx, Collection{
			Name: req.Collection, Model: got, Index: idx,
			QueryPrefix: req.QueryPrefix, DocumentPrefix: req.DocumentPrefix,
		})
		if err != nil {
			return res, err
		}
		if coll.Model != got || coll.DocumentPrefix != req.DocumentPrefix {
			// Someone created the collection meanwhile with another model.
			return res, assist.E(assist.KindConflict, op, "collection "+coll.Name+" was created meanwhile with another embedding model; retry")
		}
	}
	doc.CollectionID = coll.ID
	res.Model = coll.Model
	id, status, err := s.cfg.Store.PutDocument(ctx, doc, stored, coll.Model)
	if err != nil {
		return res, err
	}
	res.DocumentID, res.Status = id, status
	s.log.InfoContext(ctx, "retrieval: document stored", "collection", coll.ID, "document", id,
		"status", string(status), "chunks", len(chunks), "embedded", res.Embedded, "lang", lang)
	return res, nil
}

func sameDocument(old, doc Document) bool {
	return old.ContentHash == doc.ContentHash && old.Chunking == doc.Chunking && old.Lang == doc.Lang &&
		old.Title == doc.Title && old.Format == doc.Format && maps.Equal(old.Metadata, doc.Metadata)
}

// embedAll embeds inputs in batches at batch priority. When want names a
// digest, every batch must come from that digest (else conflict); all
// batches must agree on digest and dimensions.
func (s *Service) embedAll(ctx context.Context, model string, want EmbeddingModel, inputs []string, progress func(done, total int)) (EmbeddingModel, [][]float32, error) {
	const op = "retrieval.embed"
	got := want
	got.Name = model
	out := make([][]float32, 0, len(inputs))
	for start := 0; start < len(inputs); start += s.cfg.BatchSize {
		batch := inputs[start:min(start+s.cfg.BatchSize, len(inputs))]
		vecs, digest, err := s.cfg.Embedder.Embed(ctx, assist.PriorityBatch, model, batch)
		if err != nil {
			return got, nil, err
		}
		if err := s.checkVectors(op, model, &got, digest, vecs, len(batch)); err != nil {
			return got, nil, err
		}
		out = append(out, vecs...)
		if progress != nil {
			progress(len(out), len(inputs))
		}
	}
	return got, out, nil
}

// checkVectors verifies one embedding answer against the expected model
// and fills in digest and dims on first use.
func (s *Service) checkVectors(op, model string, m *EmbeddingModel, digest string, vecs [][]float32, n int) error {
	if len(vecs) != n {
		return assist.E(assist.KindUpstream, op, "the embedding model returned the wrong number of vectors")
	}
	if digest == "" {
		return assist.E(assist.KindUpstream, op, "the embedding host did not report the model digest")
	}
	if m.Digest == "" {
		m.Digest = digest
	} else if m.Digest != digest {
		return assist.E(assist.KindConflict, op, "embedding model "+model+" has changed (digest "+short(digest)+", collection has "+short(m.Digest)+"); run docs reembed")
	}
	for _, v := range vecs {
		if m.Dims == 0 {
			m.Dims = len(v)
		}
		if len(v) == 0 || len(v) != m.Dims {
			return assist.E(assist.KindConflict, op, "embedding model "+model+" returned vectors of an unexpected dimension")
		}
	}
	return nil
}

func short(digest string) string {
	d := strings.TrimPrefix(digest, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

// Search finds the passages of a collection that best match q. Errors:
// invalid for a bad query, not_found for an unknown collection, conflict
// when q.Model or the model's current digest differs from the collection's.
func (s *Service) Search(ctx context.Context, q Query) (Hits, error) {
	const op = "retrieval.Search"
	if err := ValidCollectionName(q.Collection); err != nil {
		return Hits{}, err
	}
	mode, err := ParseMode(string(q.Mode))
	if err != nil {
		return Hits{}, err
	}
	text := strings.TrimSpace(q.Text)
	switch {
	case text == "":
		return Hits{}, assist.E(assist.KindInvalid, op, "the search text is empty")
	case !utf8.ValidString(text):
		return Hits{}, assist.E(assist.KindInvalid, op, "the search text is not valid UTF-8")
	case utf8.RuneCountInString(text) > s.cfg.MaxQueryChars:
		return Hits{}, assist.E(assist.KindTooLarge, op, "the search text is too long")
	}
	k := q.K
	switch {
	case k == 0:
		k = 10
	case k < 0 || k > 100:
		return Hits{}, assist.E(assist.KindInvalid, op, "k must be between 1 and 100")
	}
	langs := make([]string, 0, len(q.Languages))
	for _, l := range q.Languages {
		n, err := NormalizeLang(l)
		if err != nil {
			return Hits{}, err
		}
		if n != "" {
			langs = append(langs, n)
		}
	}
	if err := validMetadata(q.Metadata); err != nil {
		return Hits{}, err
	}
	if q.EfSearch < 0 || q.EfSearch > 1000 {
		return Hits{}, assist.E(assist.KindInvalid, op, "ef_search must be between 1 and 1000")
	}
	coll, err := s.cfg.Store.Collection(ctx, q.Collection, false)
	if err != nil {
		return Hits{}, err
	}
	if q.Model != "" && q.Model != coll.Model.Name {
		return Hits{}, assist.E(assist.KindConflict, op, "collection "+coll.Name+" is embedded with model "+coll.Model.Name+", not "+q.Model)
	}
	sq := StoreQuery{Languages: langs, Metadata: q.Metadata, Limit: k, EfSearch: q.EfSearch}
	if sq.EfSearch == 0 {
		sq.EfSearch = coll.Index.EfSearch
	}
	if mode == ModeHybrid {
		sq.Limit = max(4*k, 40) // candidates per ranking for fusion
	}
	if mode != ModeFullText {
		vecs, digest, err := s.cfg.Embedder.Embed(ctx, assist.PriorityInteractive, coll.Model.Name, []string{coll.QueryPrefix + text})
		if err != nil {
			return Hits{}, err
		}
		m := coll.Model
		if err := s.checkVectors(op, coll.Model.Name, &m, digest, vecs, 1); err != nil {
			return Hits{}, err
		}
		sq.Vector = vecs[0]
	}
	if mode != ModeVector {
		sq.Text = text
		sq.AnyTerm = mode == ModeHybrid
	}
	vres, tres, err := s.cfg.Store.Search(ctx, coll, sq)
	if err != nil {
		return Hits{}, err
	}
	s.log.DebugContext(ctx, "retrieval: search", "collection", coll.ID, "mode", string(mode), "vector_hits", len(vres), "text_hits", len(tres))
	h := Hits{Collection: coll.Name, Mode: mode, Model: coll.Model}
	switch mode {
	case ModeVector:
		h.Results = rankList(vres, k, true)
	case ModeFullText:
		h.Results = rankList(tres, k, false)
	default:
		h.Results = fuse(vres, tres, k)
	}
	if h.Results == nil {
		h.Results = []Result{}
	}
	return h, nil
}

func rankList(rs []Result, k int, vector bool) []Result {
	rs = rs[:min(k, len(rs))]
	for i := range rs {
		if vector {
			rs[i].Scores.VectorRank = i + 1
		} else {
			rs[i].Scores.TextRank = i + 1
		}
	}
	return rs
}

// fuse merges vector and full-text hits by reciprocal rank fusion.
func fuse(vres, tres []Result, k int) []Result {
	byID := map[int64]Result{}
	ids := func(rs []Result) []int64 {
		out := make([]int64, len(rs))
		for i, r := range rs {
			out[i] = r.ChunkID
			prev, ok := byID[r.ChunkID]
			if ok {
				// Keep both rankings' scores on one result.
				if r.Scores.VectorDistance != nil {
					prev.Scores.VectorDistance = r.Scores.VectorDistance
				}
				if r.Scores.TSRank != nil {
					prev.Scores.TSRank = r.Scores.TSRank
				}
				r = prev
			}
			byID[r.ChunkID] = r
		}
		return out
	}
	fused := FuseRRF(DefaultRRFK, ids(vres), ids(tres))
	out := make([]Result, 0, min(k, len(fused)))
	for _, f := range fused[:min(k, len(fused))] {
		r := byID[f.ID]
		r.Scores.VectorRank, r.Scores.TextRank, r.Scores.RRF = f.Ranks[0], f.Ranks[1], f.Score
		out = append(out, r)
	}
	return out
}

// Collections lists every collection with document and chunk counts.
func (s *Service) Collections(ctx context.Context) ([]Collection, error) {
	return s.cfg.Store.Collections(ctx)
}

// Collection returns one collection with counts; not_found if missing.
func (s *Service) Collection(ctx context.Context, name string) (Collection, error) {
	if err := ValidCollectionName(name); err != nil {
		return Collection{}, err
	}
	return s.cfg.Store.Collection(ctx, name, true)
}

// Documents lists a collection's documents with chunk counts.
func (s *Service) Documents(ctx context.Context, collection string) ([]Document, error) {
	if err := ValidCollectionName(collection); err != nil {
		return nil, err
	}
	return s.cfg.Store.Documents(ctx, collection)
}

// Document returns a document with its normalised text, so a caller can
// show a cited passage in context.
func (s *Service) Document(ctx context.Context, collection string, id int64) (Document, error) {
	if err := ValidCollectionName(collection); err != nil {
		return Document{}, err
	}
	return s.cfg.Store.Document(ctx, collection, id)
}

// DeleteDocument removes a document and its chunks and returns the
// document as it was (without its text), for the audit log.
func (s *Service) DeleteDocument(ctx context.Context, collection string, id int64) (Document, error) {
	if err := ValidCollectionName(collection); err != nil {
		return Document{}, err
	}
	d, err := s.cfg.Store.DeleteDocument(ctx, collection, id)
	if err != nil {
		return Document{}, err
	}
	s.log.InfoContext(ctx, "retrieval: document deleted", "document", id)
	return d, nil
}

// DeleteCollection removes a collection with all its documents and returns
// the collection as it was, with the counts taken just before deletion.
func (s *Service) DeleteCollection(ctx context.Context, name string) (Collection, error) {
	if err := ValidCollectionName(name); err != nil {
		return Collection{}, err
	}
	c, err := s.cfg.Store.Collection(ctx, name, true)
	if err != nil {
		return Collection{}, err
	}
	if err := s.cfg.Store.DeleteCollection(ctx, name); err != nil {
		return Collection{}, err
	}
	s.log.InfoContext(ctx, "retrieval: collection deleted", "collection", c.ID)
	return c, nil
}

// ReembedRequest moves a collection to another embedding model.
type ReembedRequest struct {
	Collection string
	Model      string
	// Index, when non-zero, replaces the collection's HNSW parameters.
	Index IndexParams
	// QueryPrefix and DocumentPrefix, when non-nil, replace the
	// collection's prefixes (models such as e5 expect "query: " and
	// "passage: ").
	QueryPrefix, DocumentPrefix *string
	Progress                    func(done, total int)
}

// Reembed computes new vectors for every chunk of a collection with
// req.Model, then swaps them in, rebuilds the vector index and records the
// new model in one transaction: searches see either the old model's
// vectors or the new one's, never a mix. Chunks ingested meanwhile are
// embedded before the swap.
func (s *Service) Reembed(ctx context.Context, req ReembedRequest) (Collection, error) {
	const op = "retrieval.Reembed"
	if err := ValidCollectionName(req.Collection); err != nil {
		return Collection{}, err
	}
	if strings.TrimSpace(req.Model) == "" {
		return Collection{}, assist.E(assist.KindInvalid, op, "name the embedding model to move to")
	}
	coll, err := s.cfg.Store.Collection(ctx, req.Collection, true)
	if err != nil {
		return Collection{}, err
	}
	next := coll
	next.Model = EmbeddingModel{Name: req.Model}
	if req.Index != (IndexParams{}) {
		next.Index = req.Index.WithDefaults()
		if err := next.Index.Validate(); err != nil {
			return Collection{}, err
		}
	}
	if req.QueryPrefix != nil {
		next.QueryPrefix = *req.QueryPrefix
	}
	if req.DocumentPrefix != nil {
		next.DocumentPrefix = *req.DocumentPrefix
	}
	if err := s.cfg.Store.ClearStaged(ctx, coll.ID); err != nil {
		return Collection{}, err
	}
	done, total := 0, coll.Chunks
	for round := 0; round < 5; round++ {
		var after int64
		for {
			refs, err := s.cfg.Store.StageChunks(ctx, coll.ID, after, 8*s.cfg.BatchSize, round > 0)
			if err != nil {
				return Collection{}, err
			}
			if len(refs) == 0 {
				break
			}
			inputs := make([]string, len(refs))
			ids := make([]int64, len(refs))
			for i, r := range refs {
				inputs[i] = next.DocumentPrefix + EmbedText(r.Title, r.HeadingPath, r.Text)
				ids[i] = r.ID
			}
			m, vecs, err := s.embedAll(ctx, req.Model, next.Model, inputs, nil)
			if err != nil {
				return Collection{}, err
			}
			if m.Dims > 2000 {
				return Collection{}, assist.E(assist.KindInvalid, op, "the embedding model's vectors have more than 2000 dimensions, which the vector index cannot hold")
			}
			next.Model = m
			if err := s.cfg.Store.Stage(ctx, coll.ID, ids, vecs); err != nil {
				return Collection{}, err
			}
			after = refs[len(refs)-1].ID
			done += len(refs)
			if req.Progress != nil {
				req.Progress(done, max(total, done))
			}
		}
		if next.Model.Digest == "" {
			// An empty collection: ask the model once for digest and dims.
			m, _, err := s.embedAll(ctx, req.Model, next.Model, []string{"probe"}, nil)
			if err != nil {
				return Collection{}, err
			}
			next.Model = m
		}
		missing, err := s.cfg.Store.SwapStaged(ctx, next)
		if err != nil {
			return Collection{}, err
		}
		if missing == 0 {
			s.log.InfoContext(ctx, "retrieval: collection re-embedded", "collection", coll.ID, "chunks", done)
			return s.cfg.Store.Collection(ctx, coll.Name, true)
		}
	}
	return Collection{}, assist.E(assist.KindConflict, op, "documents kept changing during re-embedding; retry when ingestion is idle")
}

func validSource(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return assist.Errorf(assist.KindInvalid, "the document source (file name or URI) is empty")
	case len(s) > 1024 || !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return assist.Errorf(assist.KindInvalid, "the document source must be at most 1024 bytes of printable UTF-8")
	}
	return nil
}

func validMetadata(m map[string]string) error {
	if len(m) > 32 {
		return assist.Errorf(assist.KindInvalid, "at most 32 metadata entries")
	}
	for k, v := range m {
		if k == "" || len(k) > 64 || len(v) > 1024 || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return assist.Errorf(assist.KindInvalid, "metadata keys must be 1–64 bytes and values at most 1024 bytes of UTF-8")
		}
	}
	return nil
}
