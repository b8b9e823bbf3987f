// Package pgstore keeps retrieval collections in PostgreSQL with pgvector:
// it implements retrieval.Store and owns the "retrieval" migrations.
//
// Layout: one chunks table holds every collection's passages. Its
// embedding column is an untyped vector, because collections may use
// models of different dimensions; each collection gets its own partial
// HNSW expression index,
//
//	CREATE INDEX chunks_hnsw_<id> ON retrieval.chunks
//	  USING hnsw ((embedding::vector(<dims>)) vector_cosine_ops)
//	  WITH (m = …, ef_construction = …)
//	  WHERE collection_id = <id> AND vector_dims(embedding) = <dims>
//
// and its queries repeat the cast and both conditions as literals so the
// planner matches that index. This keeps one schema and one set of queries
// (no table per collection), lets a collection change model and dimension
// by rebuilding only its own index, and keeps deletes simple cascades.
// Full-text search uses a generated tsvector per chunk, built with the
// document's text-search configuration (finnish, swedish, english or
// simple), and a GIN index.
//
// The package imports pgx and pgvector-go; it must not import HTTP or model
// packages. Errors are translated with pgdb.Translate; client messages
// never contain SQL or document text.
package pgstore
