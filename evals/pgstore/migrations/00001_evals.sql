-- +goose Up
CREATE SCHEMA evals;

-- One execution of a suite against one model release.
CREATE TABLE evals.runs (
    id           text PRIMARY KEY CHECK (id ~ '^run-[0-9a-f]{12}$'),
    suite        text NOT NULL,
    suite_hash   text NOT NULL,
    task         text NOT NULL,
    qualifies    text NOT NULL DEFAULT '',
    model        text NOT NULL,
    model_digest text NOT NULL,
    dataset_hash text NOT NULL,
    code_version text NOT NULL,
    cases        integer NOT NULL CHECK (cases > 0),
    status       text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    definition   jsonb NOT NULL,
    summary      jsonb,
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz
);
CREATE INDEX runs_resume ON evals.runs (suite_hash, dataset_hash, model, created_at DESC) WHERE status = 'running';
CREATE INDEX runs_created ON evals.runs (created_at DESC);

-- One case's result; replaced when a failed case is tried again.
CREATE TABLE evals.results (
    run_id        text NOT NULL REFERENCES evals.runs (id) ON DELETE CASCADE,
    case_id       text NOT NULL,
    category      text NOT NULL,
    input         text NOT NULL,
    expected      text NOT NULL,
    output        text NOT NULL,
    scores        jsonb NOT NULL,
    error         text NOT NULL DEFAULT '',
    host          text NOT NULL DEFAULT '',
    model_digest  text NOT NULL DEFAULT '',
    latency_us    bigint NOT NULL,
    prompt_tokens integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    audit_seq     bigint NOT NULL DEFAULT 0,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, case_id)
);

-- +goose Down
DROP SCHEMA evals CASCADE;
