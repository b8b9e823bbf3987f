-- +goose Up
CREATE EXTENSION IF NOT EXISTS vector;

CREATE SCHEMA retrieval;

-- A collection holds documents embedded with one model. Each collection
-- has its own partial HNSW index over chunks (see pgstore.indexDDL), so
-- collections can use models of different dimensions in one table.
CREATE TABLE retrieval.collections (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    embed_model          text NOT NULL,
    embed_digest         text NOT NULL,
    dims                 integer NOT NULL CHECK (dims BETWEEN 1 AND 2000),
    hnsw_m               integer NOT NULL CHECK (hnsw_m BETWEEN 2 AND 100),
    hnsw_ef_construction integer NOT NULL CHECK (hnsw_ef_construction BETWEEN 4 AND 1000),
    hnsw_ef_search       integer NOT NULL CHECK (hnsw_ef_search BETWEEN 1 AND 1000),
    query_prefix         text NOT NULL DEFAULT '',
    document_prefix      text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE retrieval.documents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id bigint NOT NULL REFERENCES retrieval.collections (id) ON DELETE CASCADE,
    source        text NOT NULL,
    title         text NOT NULL,
    format        text NOT NULL,
    lang          text NOT NULL,
    ts_config     regconfig NOT NULL,
    content_hash  text NOT NULL,
    chunking      text NOT NULL,
    body          text NOT NULL, -- normalised text; chunk offsets index it in code points
    chars         integer NOT NULL,
    metadata      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (collection_id, source)
);
CREATE INDEX documents_metadata_idx ON retrieval.documents USING gin (metadata jsonb_path_ops);

-- embedding is an untyped vector: each collection's partial expression
-- index casts it to the collection's dimension.
CREATE TABLE retrieval.chunks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id bigint NOT NULL REFERENCES retrieval.collections (id) ON DELETE CASCADE,
    document_id   bigint NOT NULL REFERENCES retrieval.documents (id) ON DELETE CASCADE,
    ord           integer NOT NULL,
    heading_path  text[] NOT NULL,
    heading_text  text NOT NULL, -- heading_path joined, for the tsvector
    start_char    integer NOT NULL,
    end_char      integer NOT NULL CHECK (end_char > start_char),
    content       text NOT NULL,
    content_hash  text NOT NULL,
    lang          text NOT NULL,
    ts_config     regconfig NOT NULL,
    tsv           tsvector GENERATED ALWAYS AS (
                      setweight(to_tsvector(ts_config, heading_text), 'A') ||
                      setweight(to_tsvector(ts_config, content), 'B')) STORED,
    embedding     vector NOT NULL,
    UNIQUE (document_id, ord)
);
CREATE INDEX chunks_tsv_idx ON retrieval.chunks USING gin (tsv);
CREATE INDEX chunks_hash_idx ON retrieval.chunks (collection_id, content_hash);

-- Vectors computed by a running re-embed, swapped in at its end.
CREATE TABLE retrieval.staged_embeddings (
    chunk_id      bigint PRIMARY KEY REFERENCES retrieval.chunks (id) ON DELETE CASCADE,
    collection_id bigint NOT NULL REFERENCES retrieval.collections (id) ON DELETE CASCADE,
    embedding     vector NOT NULL
);
CREATE INDEX staged_embeddings_collection_idx ON retrieval.staged_embeddings (collection_id);

-- +goose Down
DROP SCHEMA retrieval CASCADE;
