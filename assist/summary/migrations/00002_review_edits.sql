-- +goose Up
-- The sentences a reviewer edited in place (id and final text), so the
-- signed note can be rendered with its structure and citations.
ALTER TABLE summary_reviews ADD COLUMN edits jsonb NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE summary_reviews DROP COLUMN edits;
