package pgstore

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/retrieval"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the retrieval schema (and the vector extension).
var Migrations = pgdb.NewMigrationSet("retrieval", migrationFiles, "migrations")

// Store implements retrieval.Store on a pgx pool.
type Store struct {
	pool *pgxpool.Pool

	mu         sync.Mutex
	vectorOID  uint32
	vectorsOID uint32
}

var _ retrieval.Store = (*Store)(nil)

// New returns a Store on pool. The pool needs no special setup: the
// pgvector types are registered on each connection as it is used.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// conn acquires a connection with the vector and regconfig types registered.
func (s *Store) conn(ctx context.Context) (*pgxpool.Conn, error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tm := c.Conn().TypeMap()
	if _, ok := tm.TypeForName("vector"); ok {
		return c, nil
	}
	s.mu.Lock()
	oid, arr := s.vectorOID, s.vectorsOID
	s.mu.Unlock()
	if oid == 0 {
		var o, a *uint32
		if err := c.QueryRow(ctx, "SELECT to_regtype('vector')::oid, to_regtype('_vector')::oid").Scan(&o, &a); err != nil {
			c.Release()
			return nil, err
		}
		if o == nil || a == nil {
			c.Release()
			return nil, assist.E(assist.KindUnavailable, "pgstore.conn", "the database lacks the vector extension; run the migrations", errors.New("type vector not found"))
		}
		oid, arr = *o, *a
		s.mu.Lock()
		s.vectorOID, s.vectorsOID = oid, arr
		s.mu.Unlock()
	}
	t := &pgtype.Type{Name: "vector", OID: oid, Codec: &pgxvec.VectorCodec{}}
	tm.RegisterType(t)
	tm.RegisterType(&pgtype.Type{Name: "_vector", OID: arr, Codec: &pgtype.ArrayCodec{ElementType: t}})
	// regconfig values are OIDs on the wire; naming it lets COPY send them.
	tm.RegisterType(&pgtype.Type{Name: "regconfig", OID: 3734, Codec: pgtype.Uint32Codec{}})
	return c, nil
}

func indexName(collectionID int64) string {
	return "chunks_hnsw_" + strconv.FormatInt(collectionID, 10)
}

// indexDDL creates a collection's HNSW index. Every value is an integer
// from the collection row, so formatting them into the statement is safe.
// The vector_dims condition matters during a re-embed: CREATE INDEX also
// sees the old row versions (other transactions may still read them), and
// casting those to the new dimension would fail; the predicate is checked
// before the expression, so they are skipped.
func indexDDL(c retrieval.Collection) string {
	return fmt.Sprintf(`CREATE INDEX %s ON retrieval.chunks USING hnsw ((embedding::vector(%d)) vector_cosine_ops) WITH (m = %d, ef_construction = %d) WHERE collection_id = %d AND vector_dims(embedding) = %d`,
		indexName(c.ID), c.Model.Dims, c.Index.M, c.Index.EfConstruction, c.ID, c.Model.Dims)
}

const collectionCols = `c.id, c.name, c.embed_model, c.embed_digest, c.dims, c.hnsw_m, c.hnsw_ef_construction,
	c.hnsw_ef_search, c.query_prefix, c.document_prefix, c.created_at, c.updated_at`

const countCols = `,
	(SELECT count(*) FROM retrieval.documents d WHERE d.collection_id = c.id),
	(SELECT count(*) FROM retrieval.chunks k WHERE k.collection_id = c.id)`

func scanCollection(row pgx.Row, counts bool) (retrieval.Collection, error) {
	var c retrieval.Collection
	dest := []any{&c.ID, &c.Name, &c.Model.Name, &c.Model.Digest, &c.Model.Dims, &c.Index.M, &c.Index.EfConstruction,
		&c.Index.EfSearch, &c.QueryPrefix, &c.DocumentPrefix, &c.CreatedAt, &c.UpdatedAt}
	if counts {
		dest = append(dest, &c.Documents, &c.Chunks)
	}
	err := row.Scan(dest...)
	return c, err
}

func notFound(op, what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return assist.E(assist.KindNotFound, op, what+" not found")
	}
	return pgdb.Translate(op, err)
}

// Collection implements retrieval.Store.
func (s *Store) Collection(ctx context.Context, name string, withCounts bool) (retrieval.Collection, error) {
	const op = "pgstore.Collection"
	q := `SELECT ` + collectionCols
	if withCounts {
		q += countCols
	}
	q += ` FROM retrieval.collections c WHERE c.name = $1`
	c, err := scanCollection(s.pool.QueryRow(ctx, q, name), withCounts)
	if err != nil {
		return c, notFound(op, "collection", err)
	}
	return c, nil
}

// Collections implements retrieval.Store.
func (s *Store) Collections(ctx context.Context) ([]retrieval.Collection, error) {
	const op = "pgstore.Collections"
	rows, err := s.pool.Query(ctx, `SELECT `+collectionCols+countCols+` FROM retrieval.collections c ORDER BY c.name`)
	if err != nil {
		return nil, pgdb.Translate(op, err)
	}
	defer rows.Close()
	out := []retrieval.Collection{}
	for rows.Next() {
		c, err := scanCollection(rows, true)
		if err != nil {
			return nil, pgdb.Translate(op, err)
		}
		out = append(out, c)
	}
	return out, pgdb.Translate(op, rows.Err())
}

// CreateCollection implements retrieval.Store.
func (s *Store) CreateCollection(ctx context.Context, c retrieval.Collection) (retrieval.Collection, error) {
	const op = "pgstore.CreateCollection"
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return c, pgdb.Translate(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	err = tx.QueryRow(ctx, `INSERT INTO retrieval.collections
		(name, embed_model, embed_digest, dims, hnsw_m, hnsw_ef_construction, hnsw_ef_search, query_prefix, document_prefix)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (name) DO NOTHING
		RETURNING id, created_at, updated_at`,
		c.Name, c.Model.Name, c.Model.Digest, c.Model.Dims, c.Index.M, c.Index.EfConstruction, c.Index.EfSearch,
		c.QueryPrefix, c.DocumentPrefix).Scan(&c.ID, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = tx.Rollback(ctx)
		return s.Collection(ctx, c.Name, false)
	}
	if err != nil {
		return c, pgdb.Translate(op, err)
	}
	if _, err := tx.Exec(ctx, indexDDL(c)); err != nil {
		return c, pgdb.Translate(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return c, pgdb.Translate(op, err)
	}
	return c, nil
}

// DeleteCollection implements retrieval.Store.
func (s *Store) DeleteCollection(ctx context.Context, name string) error {
	const op = "pgstore.DeleteCollection"
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return pgdb.Translate(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var id int64
	if err := tx.QueryRow(ctx, `SELECT id FROM retrieval.collections WHERE name = $1 FOR UPDATE`, name).Scan(&id); err != nil {
		return notFound(op, "collection", err)
	}
	if _, err := tx.Exec(ctx, `DROP INDEX IF EXISTS retrieval.`+indexName(id)); err != nil {
		return pgdb.Translate(op, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM retrieval.collections WHERE id = $1`, id); err != nil {
		return pgdb.Translate(op, err)
	}
	return pgdb.Translate(op, tx.Commit(ctx))
}

const documentCols = `d.id, d.collection_id, d.source, d.title, d.format, d.lang, d.ts_config::text, d.content_hash,
	d.chunking, d.chars, d.metadata, d.created_at, d.updated_at`

func scanDocument(row pgx.Row, extra ...any) (retrieval.Document, error) {
	var d retrieval.Document
	var meta []byte
	dest := append([]any{&d.ID, &d.CollectionID, &d.Source, &d.Title, &d.Format, &d.Lang, &d.TSConfig, &d.ContentHash,
		&d.Chunking, &d.Chars, &meta, &d.CreatedAt, &d.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, err
	}
	if err := decodeMeta(meta, &d.Metadata); err != nil {
		return d, err
	}
	return d, nil
}

func decodeMeta(b []byte, m *map[string]string) error {
	if len(b) == 0 || string(b) == "{}" {
		*m = nil
		return nil
	}
	return json.Unmarshal(b, m)
}

func encodeMeta(m map[string]string) []byte {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return b
}

// Document implements retrieval.Store.
func (s *Store) Document(ctx context.Context, collection string, id int64) (retrieval.Document, error) {
	const op = "pgstore.Document"
	var d retrieval.Document
	row := s.pool.QueryRow(ctx, `SELECT `+documentCols+`, d.body,
		(SELECT count(*) FROM retrieval.chunks k WHERE k.document_id = d.id)
		FROM retrieval.documents d JOIN retrieval.collections c ON c.id = d.collection_id
		WHERE c.name = $1 AND d.id = $2`, collection, id)
	var body string
	var chunks int
	d, err := scanDocument(row, &body, &chunks)
	if err != nil {
		return d, notFound(op, "document", err)
	}
	d.Text, d.Chunks = body, chunks
	return d, nil
}

// DocumentBySource implements retrieval.Store.
func (s *Store) DocumentBySource(ctx context.Context, collectionID int64, source string) (retrieval.Document, error) {
	const op = "pgstore.DocumentBySource"
	d, err := scanDocument(s.pool.QueryRow(ctx, `SELECT `+documentCols+`
		FROM retrieval.documents d WHERE d.collection_id = $1 AND d.source = $2`, collectionID, source))
	if err != nil {
		return d, notFound(op, "document", err)
	}
	return d, nil
}

// Documents implements retrieval.Store.
func (s *Store) Documents(ctx context.Context, collection string) ([]retrieval.Document, error) {
	const op = "pgstore.Documents"
	if _, err := s.Collection(ctx, collection, false); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+documentCols+`,
		(SELECT count(*) FROM retrieval.chunks k WHERE k.document_id = d.id)
		FROM retrieval.documents d JOIN retrieval.collections c ON c.id = d.collection_id
		WHERE c.name = $1 ORDER BY d.source`, collection)
	if err != nil {
		return nil, pgdb.Translate(op, err)
	}
	defer rows.Close()
	out := []retrieval.Document{}
	for rows.Next() {
		var n int
		d, err := scanDocument(rows, &n)
		if err != nil {
			return nil, pgdb.Translate(op, err)
		}
		d.Chunks = n
		out = append(out, d)
	}
	return out, pgdb.Translate(op, rows.Err())
}

// DeleteDocument implements retrieval.Store.
func (s *Store) DeleteDocument(ctx context.Context, collection string, id int64) (retrieval.Document, error) {
	const op = "pgstore.DeleteDocument"
	d, err := scanDocument(s.pool.QueryRow(ctx, `DELETE FROM retrieval.documents d USING retrieval.collections c
		WHERE c.id = d.collection_id AND c.name = $1 AND d.id = $2
		RETURNING `+documentCols, collection, id))
	if err != nil {
		return retrieval.Document{}, notFound(op, "document", err)
	}
	return d, nil
}

// Embeddings implements retrieval.Store.
func (s *Store) Embeddings(ctx context.Context, collectionID int64, hashes []string) (map[string][]float32, error) {
	const op = "pgstore.Embeddings"
	out := map[string][]float32{}
	if len(hashes) == 0 {
		return out, nil
	}
	c, err := s.conn(ctx)
	if err != nil {
		return nil, pgdb.Translate(op, err)
	}
	defer c.Release()
	rows, err := c.Query(ctx, `SELECT DISTINCT ON (content_hash) content_hash, embedding
		FROM retrieval.chunks WHERE collection_id = $1 AND content_hash = ANY($2)`, collectionID, hashes)
	if err != nil {
		return nil, pgdb.Translate(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		var v pgvector.Vector
		if err := rows.Scan(&h, &v); err != nil {
			return nil, pgdb.Translate(op, err)
		}
		out[h] = v.Slice()
	}
	return out, pgdb.Translate(op, rows.Err())
}

// PutDocument implements retrieval.Store.
func (s *Store) PutDocument(ctx context.Context, doc retrieval.Document, chunks []retrieval.StoredChunk, model retrieval.EmbeddingModel) (int64, retrieval.PutStatus, error) {
	const op = "pgstore.PutDocument"
	c, err := s.conn(ctx)
	if err != nil {
		return 0, "", pgdb.Translate(op, err)
	}
	defer c.Release()
	tx, err := c.Begin(ctx)
	if err != nil {
		return 0, "", pgdb.Translate(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	var cur retrieval.EmbeddingModel
	err = tx.QueryRow(ctx, `SELECT embed_model, embed_digest, dims FROM retrieval.collections WHERE id = $1 FOR SHARE`,
		doc.CollectionID).Scan(&cur.Name, &cur.Digest, &cur.Dims)
	if err != nil {
		return 0, "", notFound(op, "collection", err)
	}
	if cur != model {
		return 0, "", assist.E(assist.KindConflict, op, "the collection's embedding model changed during ingestion; retry")
	}
	for _, ch := range chunks {
		if len(ch.Embedding) != cur.Dims {
			return 0, "", assist.E(assist.KindInternal, op, fmt.Errorf("chunk %d has %d dimensions, collection %d", ch.Ord, len(ch.Embedding), cur.Dims))
		}
	}
	var cfgOID uint32
	if err := tx.QueryRow(ctx, `SELECT $1::text::regconfig::oid`, doc.TSConfig).Scan(&cfgOID); err != nil {
		return 0, "", assist.E(assist.KindInvalid, op, "unknown text-search configuration", err)
	}

	var id int64
	var inserted bool
	err = tx.QueryRow(ctx, `INSERT INTO retrieval.documents
		(collection_id, source, title, format, lang, ts_config, content_hash, chunking, body, chars, metadata)
		VALUES ($1, $2, $3, $4, $5, $6::text::regconfig, $7, $8, $9, $10, $11)
		ON CONFLICT (collection_id, source) DO UPDATE SET
			title = EXCLUDED.title, format = EXCLUDED.format, lang = EXCLUDED.lang, ts_config = EXCLUDED.ts_config,
			content_hash = EXCLUDED.content_hash, chunking = EXCLUDED.chunking, body = EXCLUDED.body,
			chars = EXCLUDED.chars, metadata = EXCLUDED.metadata, updated_at = now()
		RETURNING id, (xmax = 0)`,
		doc.CollectionID, doc.Source, doc.Title, string(doc.Format), doc.Lang, doc.TSConfig, doc.ContentHash,
		doc.Chunking, doc.Text, doc.Chars, encodeMeta(doc.Metadata)).Scan(&id, &inserted)
	if err != nil {
		return 0, "", pgdb.Translate(op, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM retrieval.chunks WHERE document_id = $1`, id); err != nil {
		return 0, "", pgdb.Translate(op, err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"retrieval", "chunks"},
		[]string{"collection_id", "document_id", "ord", "heading_path", "heading_text", "start_char", "end_char", "content",
			"content_hash", "lang", "ts_config", "embedding"},
		pgx.CopyFromSlice(len(chunks), func(i int) ([]any, error) {
			ch := chunks[i]
			path := ch.HeadingPath
			if path == nil {
				path = []string{}
			}
			return []any{doc.CollectionID, id, ch.Ord, path, strings.Join(path, " > "), ch.Start, ch.End, ch.Text, ch.Hash, doc.Lang, cfgOID,
				pgvector.NewVector(ch.Embedding)}, nil
		}))
	if err != nil {
		return 0, "", pgdb.Translate(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, "", pgdb.Translate(op, err)
	}
	if inserted {
		return id, retrieval.StatusCreated, nil
	}
	return id, retrieval.StatusUpdated, nil
}

const resultCols = `c.id, c.document_id, d.title, d.source, c.lang, c.heading_path, c.start_char, c.end_char,
	c.content, d.metadata`

// filters renders the language and metadata conditions, numbering
// parameters from next; it returns the SQL and the arguments.
func filters(q retrieval.StoreQuery, next int) (string, []any) {
	var sb strings.Builder
	var args []any
	if len(q.Languages) > 0 {
		fmt.Fprintf(&sb, " AND c.lang = ANY($%d)", next)
		args = append(args, q.Languages)
		next++
	}
	if len(q.Metadata) > 0 {
		fmt.Fprintf(&sb, " AND d.metadata @> $%d", next)
		args = append(args, encodeMeta(q.Metadata))
	}
	return sb.String(), args
}

// Search implements retrieval.Store. When both rankings are asked for
// they run concurrently on two connections (each statement reads its own
// snapshot either way), so a hybrid search costs about the slower of the
// two. hnsw.ef_search is set for the vector query's transaction alone.
func (s *Store) Search(ctx context.Context, coll retrieval.Collection, q retrieval.StoreQuery) (vres, tres []retrieval.Result, err error) {
	const op = "pgstore.Search"
	if q.Vector != nil && len(q.Vector) != coll.Model.Dims {
		return nil, nil, assist.E(assist.KindConflict, op, "the query vector's dimension differs from the collection's")
	}
	var verr, terr error
	switch {
	case q.Vector != nil && q.Text != "":
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tres, terr = s.searchText(ctx, coll, q)
		}()
		vres, verr = s.searchVector(ctx, coll, q)
		wg.Wait()
	case q.Vector != nil:
		vres, verr = s.searchVector(ctx, coll, q)
	case q.Text != "":
		tres, terr = s.searchText(ctx, coll, q)
	}
	if err := errors.Join(verr, terr); err != nil {
		return nil, nil, pgdb.Translate(op, err)
	}
	return vres, tres, nil
}

func (s *Store) searchVector(ctx context.Context, coll retrieval.Collection, q retrieval.StoreQuery) ([]retrieval.Result, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	tx, err := c.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	ef := q.EfSearch
	if ef <= 0 {
		ef = coll.Index.EfSearch
	}
	// strict_order: with filters, keep scanning the graph until enough
	// rows pass them (pgvector 0.8); ignored by older versions.
	if _, err := tx.Exec(ctx, `SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'strict_order', true)`,
		strconv.Itoa(ef)); err != nil {
		return nil, err
	}
	id := strconv.FormatInt(coll.ID, 10)
	cast := fmt.Sprintf("vector(%d)", coll.Model.Dims)
	where, args := filters(q, 3)
	sql := `SELECT ` + resultCols + `, c.embedding::` + cast + ` <=> $1::` + cast + `
		FROM retrieval.chunks c JOIN retrieval.documents d ON d.id = c.document_id
		WHERE c.collection_id = ` + id + ` AND vector_dims(c.embedding) = ` + strconv.Itoa(coll.Model.Dims) + where + `
		ORDER BY c.embedding::` + cast + ` <=> $1::` + cast + ` LIMIT $2`
	return queryResults(ctx, tx, sql, append([]any{pgvector.NewVector(q.Vector), q.Limit}, args...), true)
}

// maxCompoundTerms bounds the query words matched inside compounds (each
// is one trigram index scan).
const maxCompoundTerms = 12

// searchText matches each chunk with the query parsed by its own
// document's configuration (finnish, swedish, english, simple), and with
// each query word inside longer words: Finnish and Swedish compounds
// ("verenpaine" in "verenpainelääkitys", "blodtryck" in
// "blodtrycksmedicin"), which the stemmers do not split, by pg_trgm word
// similarity over the chunk text. With q.AnyTerm a chunk matches when any
// query word does (whole or in a compound); otherwise when the web-search
// query matches or every query word does. The score is ts_rank_cd over
// the query's words (any of them) plus the mean word similarity of the
// query words found in the chunk.
func (s *Store) searchText(ctx context.Context, coll retrieval.Collection, q retrieval.StoreQuery) ([]retrieval.Result, error) {
	id := strconv.FormatInt(coll.ID, 10)
	var cfgs string
	var cfgArgs []any
	if len(q.Languages) > 0 {
		names := make([]string, 0, len(q.Languages))
		for _, l := range q.Languages {
			names = append(names, retrieval.TextSearchConfig(l))
		}
		cfgs = `SELECT DISTINCT unnest($3::text[])::regconfig AS cfg`
		cfgArgs = append(cfgArgs, names)
	} else {
		cfgs = `SELECT DISTINCT ts_config AS cfg FROM retrieval.documents WHERE collection_id = ` + id
	}
	terms, err := s.queryTerms(ctx, cfgs, q.Text, cfgArgs)
	if err != nil {
		return nil, err
	}
	args := append([]any{q.Text, q.Limit}, cfgArgs...)
	termsParam := "$" + strconv.Itoa(len(args)+1)
	args = append(args, terms)
	conds := make([]string, len(terms))
	for i, t := range terms {
		args = append(args, t)
		conds[i] = "c.content %> $" + strconv.Itoa(len(args))
	}
	compound := "false"
	switch {
	case len(conds) > 0 && q.AnyTerm:
		compound = "(" + strings.Join(conds, " OR ") + ")"
	case len(conds) > 0:
		compound = "(" + strings.Join(conds, " AND ") + ")"
	}
	match := "(c.tsv @@ q.tsq OR " + compound + ")"
	if q.AnyTerm {
		match = "(c.tsv @@ q.tsq_any OR " + compound + ")"
	}
	where, fargs := filters(q, len(args)+1)
	// tsq_any is the OR of the text's lexemes, quoted for tsquery input.
	sql := `WITH q AS (
			SELECT cfg, websearch_to_tsquery(cfg, $1) AS tsq,
				(SELECT nullif(string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | '), '')::tsquery
				 FROM unnest(tsvector_to_array(to_tsvector(cfg, $1))) l) AS tsq_any
			FROM (` + cfgs + `) cfgs)
		SELECT ` + resultCols + `,
			coalesce(ts_rank_cd(c.tsv, coalesce(q.tsq_any, q.tsq), 32), 0) +
			(SELECT coalesce(sum(word_similarity(t, c.content)), 0) FROM unnest(` + termsParam + `::text[]) t WHERE t <% c.content)
				/ greatest(cardinality(` + termsParam + `::text[]), 1)
		FROM q JOIN retrieval.chunks c ON c.ts_config = q.cfg AND ` + match + `
		JOIN retrieval.documents d ON d.id = c.document_id
		WHERE c.collection_id = ` + id + where + `
		ORDER BY 11 DESC, c.id LIMIT $2`
	return queryResults(ctx, s.pool, sql, append(args, fargs...), false)
}

// queryTerms returns the query's words as each configuration normalises
// them (stop words dropped, stemmed), at least 4 characters long, for
// matching inside compounds.
func (s *Store) queryTerms(ctx context.Context, cfgs, text string, cfgArgs []any) ([]string, error) {
	// $2 only keeps the parameter positions the configurations' query uses.
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT l FROM (`+cfgs+`) cfgs,
			unnest(tsvector_to_array(to_tsvector(cfg, $1))) l
		WHERE char_length(l) >= 4 AND $2::int > 0 ORDER BY 1`, append([]any{text, 1}, cfgArgs...)...)
	if err != nil {
		return nil, err
	}
	terms, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(terms) > maxCompoundTerms {
		terms = terms[:maxCompoundTerms]
	}
	return terms, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func queryResults(ctx context.Context, db querier, sql string, args []any, vector bool) ([]retrieval.Result, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []retrieval.Result
	for rows.Next() {
		var r retrieval.Result
		var meta []byte
		var score float64
		if err := rows.Scan(&r.ChunkID, &r.DocumentID, &r.Title, &r.Source, &r.Lang, &r.HeadingPath, &r.Start, &r.End,
			&r.Text, &meta, &score); err != nil {
			return nil, err
		}
		if err := decodeMeta(meta, &r.Metadata); err != nil {
			return nil, err
		}
		if vector {
			r.Scores.VectorDistance = &score
		} else {
			r.Scores.TSRank = &score
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// StageChunks implements retrieval.Store.
func (s *Store) StageChunks(ctx context.Context, collectionID, afterID int64, limit int, unstagedOnly bool) ([]retrieval.ChunkRef, error) {
	const op = "pgstore.StageChunks"
	sql := `SELECT c.id, d.title, c.heading_path, c.content
		FROM retrieval.chunks c JOIN retrieval.documents d ON d.id = c.document_id
		WHERE c.collection_id = $1 AND c.id > $2`
	if unstagedOnly {
		sql += ` AND NOT EXISTS (SELECT 1 FROM retrieval.staged_embeddings s WHERE s.chunk_id = c.id)`
	}
	sql += ` ORDER BY c.id LIMIT $3`
	rows, err := s.pool.Query(ctx, sql, collectionID, afterID, limit)
	if err != nil {
		return nil, pgdb.Translate(op, err)
	}
	defer rows.Close()
	var out []retrieval.ChunkRef
	for rows.Next() {
		var r retrieval.ChunkRef
		if err := rows.Scan(&r.ID, &r.Title, &r.HeadingPath, &r.Text); err != nil {
			return nil, pgdb.Translate(op, err)
		}
		out = append(out, r)
	}
	return out, pgdb.Translate(op, rows.Err())
}

// ClearStaged implements retrieval.Store.
func (s *Store) ClearStaged(ctx context.Context, collectionID int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM retrieval.staged_embeddings WHERE collection_id = $1`, collectionID)
	return pgdb.Translate("pgstore.ClearStaged", err)
}

// Stage implements retrieval.Store. Chunks deleted meanwhile are skipped.
func (s *Store) Stage(ctx context.Context, collectionID int64, ids []int64, vectors [][]float32) error {
	const op = "pgstore.Stage"
	c, err := s.conn(ctx)
	if err != nil {
		return pgdb.Translate(op, err)
	}
	defer c.Release()
	vecs := make([]pgvector.Vector, len(vectors))
	for i, v := range vectors {
		vecs[i] = pgvector.NewVector(v)
	}
	_, err = c.Exec(ctx, `INSERT INTO retrieval.staged_embeddings (chunk_id, collection_id, embedding)
		SELECT u.id, $1, u.v FROM unnest($2::bigint[], $3::vector[]) AS u(id, v)
		JOIN retrieval.chunks c ON c.id = u.id AND c.collection_id = $1
		ON CONFLICT (chunk_id) DO UPDATE SET embedding = EXCLUDED.embedding`, collectionID, ids, vecs)
	return pgdb.Translate(op, err)
}

// SwapStaged implements retrieval.Store. The index is dropped before the
// vectors change (its expression casts to the old dimension) and rebuilt
// after; the collection row lock keeps ingestion out meanwhile.
func (s *Store) SwapStaged(ctx context.Context, next retrieval.Collection) (int, error) {
	const op = "pgstore.SwapStaged"
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, pgdb.Translate(op, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var id int64
	if err := tx.QueryRow(ctx, `SELECT id FROM retrieval.collections WHERE id = $1 FOR UPDATE`, next.ID).Scan(&id); err != nil {
		return 0, notFound(op, "collection", err)
	}
	var missing int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM retrieval.chunks c WHERE c.collection_id = $1
		AND NOT EXISTS (SELECT 1 FROM retrieval.staged_embeddings s WHERE s.chunk_id = c.id)`, id).Scan(&missing); err != nil {
		return 0, pgdb.Translate(op, err)
	}
	if missing > 0 {
		return missing, nil
	}
	steps := []struct {
		sql  string
		args []any
	}{
		{`SET LOCAL maintenance_work_mem = '512MB'`, nil},
		{`DROP INDEX IF EXISTS retrieval.` + indexName(id), nil},
		{`UPDATE retrieval.chunks c SET embedding = s.embedding FROM retrieval.staged_embeddings s
			WHERE s.chunk_id = c.id AND c.collection_id = $1`, []any{id}},
		{indexDDL(next), nil},
		{`UPDATE retrieval.collections SET embed_model = $2, embed_digest = $3, dims = $4, hnsw_m = $5,
			hnsw_ef_construction = $6, hnsw_ef_search = $7, query_prefix = $8, document_prefix = $9, updated_at = now()
			WHERE id = $1`, []any{id, next.Model.Name, next.Model.Digest, next.Model.Dims, next.Index.M,
			next.Index.EfConstruction, next.Index.EfSearch, next.QueryPrefix, next.DocumentPrefix}},
		{`DELETE FROM retrieval.staged_embeddings WHERE collection_id = $1`, []any{id}},
	}
	for _, st := range steps {
		if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
			return 0, pgdb.Translate(op, err)
		}
	}
	return 0, pgdb.Translate(op, tx.Commit(ctx))
}
