-- +goose Up
-- Finnish and Swedish compounds: the snowball stemmers do not split them,
-- so "verenpaine" never matches "verenpainelääkitys" in the tsvector. A
-- trigram index over the chunk text lets a query word match as part of a
-- longer word (pg_trgm's word similarity, operator %>), whatever the
-- language. pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX chunks_content_trgm_idx ON retrieval.chunks USING gin (content gin_trgm_ops);

-- +goose Down
DROP INDEX retrieval.chunks_content_trgm_idx;
