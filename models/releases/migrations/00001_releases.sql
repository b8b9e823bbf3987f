-- +goose Up
CREATE SCHEMA releases;

-- A model release: one model digest proposed, approved or withdrawn for
-- one gateway task. At most one release per task is approved at a time.
CREATE TABLE releases.releases (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task         text NOT NULL CHECK (task ~ '^[a-z][a-z0-9_]{0,63}$'),
    model        text NOT NULL CHECK (model <> ''),
    digest       text NOT NULL CHECK (digest <> ''),
    purpose      text NOT NULL DEFAULT '',
    status       text NOT NULL CHECK (status IN ('candidate', 'approved', 'withdrawn')),
    run_id       text NOT NULL DEFAULT '',
    report_hash  text NOT NULL DEFAULT '',
    decided_by   text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    audit_seq    bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz,
    UNIQUE (task, model, digest),
    CHECK (status <> 'approved' OR (run_id <> '' AND report_hash <> '' AND decided_by <> '' AND reason <> ''))
);
CREATE UNIQUE INDEX releases_one_approved ON releases.releases (task) WHERE status = 'approved';

-- +goose Down
DROP SCHEMA releases CASCADE;
