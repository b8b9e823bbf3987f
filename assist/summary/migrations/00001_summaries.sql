-- +goose Up
-- Drafts written by the summary task, with the sources they cite, kept for
-- the clinician's review; and the reviews, queryable for quality
-- follow-up. The text is patient data: access goes through the gateway's
-- API only (same organisation as the author).
CREATE TABLE summary_drafts (
    id               bigserial PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind IN ('visit', 'background')),
    template_id      text        NOT NULL,
    template_version text        NOT NULL,
    lang             text        NOT NULL,
    model            text        NOT NULL DEFAULT '',
    model_digest     text        NOT NULL DEFAULT '',
    audit_seq        bigint      NOT NULL DEFAULT 0,
    task_seq         bigint      NOT NULL DEFAULT 0,
    actor_token_id   text        NOT NULL DEFAULT '',
    organisation     text        NOT NULL DEFAULT '',
    sentences        integer     NOT NULL,
    unsupported      integer     NOT NULL,
    draft            jsonb       NOT NULL,
    sources          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX summary_drafts_created ON summary_drafts (created_at);

CREATE TABLE summary_reviews (
    id               bigserial PRIMARY KEY,
    draft_id         bigint      NOT NULL UNIQUE REFERENCES summary_drafts (id),
    outcome          text        NOT NULL CHECK (outcome IN ('accepted', 'edited', 'rejected')),
    reason           text        NOT NULL DEFAULT '',
    final_text       text        NOT NULL DEFAULT '',
    diff             text        NOT NULL DEFAULT '',
    edit_distance    integer     NOT NULL DEFAULT 0,
    draft_words      integer     NOT NULL DEFAULT 0,
    flags_total      integer     NOT NULL DEFAULT 0,
    flags_overridden integer     NOT NULL DEFAULT 0,
    actor_token_id   text        NOT NULL DEFAULT '',
    audit_seq        bigint      NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX summary_reviews_created ON summary_reviews (created_at);

-- +goose Down
DROP TABLE summary_reviews;
DROP TABLE summary_drafts;
