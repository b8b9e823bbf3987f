-- +goose Up
-- One row per audit record. The columns are the fields of audit.Record;
-- leaf_hash = SHA-256(0x00 || canonical encoding), prev_hash = leaf_hash of
-- seq-1. prev_hash is UNIQUE: no two records can extend the same
-- predecessor, so the chain cannot fork even with several writers.
CREATE TABLE audit_records (
    seq              bigint PRIMARY KEY CHECK (seq > 0),
    recorded_at      timestamptz NOT NULL,
    kind             text NOT NULL,
    request_id       text NOT NULL DEFAULT '',
    actor_token_id   text NOT NULL DEFAULT '',
    actor_name       text NOT NULL DEFAULT '',
    actor_role       text NOT NULL DEFAULT '',
    actor_org        text NOT NULL DEFAULT '',
    task             text NOT NULL DEFAULT '',
    patient          bytea,
    model            text NOT NULL DEFAULT '',
    model_digest     text NOT NULL DEFAULT '',
    host             text NOT NULL DEFAULT '',
    template_id      text NOT NULL DEFAULT '',
    template_version text NOT NULL DEFAULT '',
    input_sha256     bytea,
    output_sha256    bytea,
    sources          jsonb NOT NULL DEFAULT '[]',
    latency_us       bigint NOT NULL DEFAULT 0,
    input_tokens     bigint NOT NULL DEFAULT 0,
    output_tokens    bigint NOT NULL DEFAULT 0,
    outcome          text NOT NULL DEFAULT '',
    error_kind       text NOT NULL DEFAULT '',
    relates_to       bigint NOT NULL DEFAULT 0,
    attrs            jsonb NOT NULL DEFAULT '{}',
    content_stored   boolean NOT NULL DEFAULT false,
    prev_hash        bytea NOT NULL UNIQUE CHECK (octet_length(prev_hash) = 32),
    leaf_hash        bytea NOT NULL CHECK (octet_length(leaf_hash) = 32)
);

-- Review queries: time ranges (records are appended in time order, so a
-- BRIN index is tiny), patient pseudonym, actor and linked records.
CREATE INDEX audit_records_time ON audit_records USING brin (recorded_at);
CREATE INDEX audit_records_patient ON audit_records (patient, seq) WHERE patient IS NOT NULL;
CREATE INDEX audit_records_actor ON audit_records (actor_token_id, seq) WHERE actor_token_id <> '';
CREATE INDEX audit_records_relates ON audit_records (relates_to) WHERE relates_to > 0;

-- Stored internal Merkle tree nodes at levels 4, 8, 12, … (see merkle.go).
CREATE TABLE audit_nodes (
    level smallint NOT NULL,
    idx   bigint NOT NULL,
    hash  bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed checkpoints (Ed25519 over audit.Checkpoint.Body).
CREATE TABLE audit_checkpoints (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin    text NOT NULL,
    size      bigint NOT NULL CHECK (size >= 0),
    root      bytea NOT NULL,
    signed_at timestamptz NOT NULL,
    key_id    text NOT NULL,
    signature bytea NOT NULL
);
CREATE INDEX audit_checkpoints_size ON audit_checkpoints (size);

-- Optional encrypted input/output (AES-256-GCM), erased after expires_at.
-- The records keep the SHA-256 of both, which is what the tree covers.
CREATE TABLE audit_content (
    seq        bigint PRIMARY KEY,
    key_id     text NOT NULL,
    input_ct   bytea,
    output_ct  bytea,
    expires_at timestamptz NOT NULL
);
CREATE INDEX audit_content_expires ON audit_content (expires_at);

-- Append-only: any UPDATE, DELETE or TRUNCATE raises, whoever asks.
-- +goose StatementBegin
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- Content rows may only be deleted once they have expired; never updated
-- or truncated. This is the one narrow exception to append-only.
-- +goose StatementBegin
CREATE FUNCTION audit_content_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.expires_at <= now() THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit content can only be erased after its retention period (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_content_guard BEFORE UPDATE OR DELETE ON audit_content
    FOR EACH ROW EXECUTE FUNCTION audit_content_guard();
CREATE TRIGGER audit_content_no_truncate BEFORE TRUNCATE ON audit_content
    FOR EACH STATEMENT EXECUTE FUNCTION audit_content_guard();

-- The purge path: runs as the owner, erases only expired content, uses the
-- database clock (a caller cannot pass a future time). The gateway's role
-- gets EXECUTE on it and no DELETE privilege (see audit.GrantAppRole).
-- +goose StatementBegin
CREATE FUNCTION audit_purge_content() RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    WITH gone AS (DELETE FROM audit_content WHERE expires_at <= now() RETURNING 1)
    SELECT count(*) FROM gone;
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION audit_purge_content() FROM PUBLIC;

-- +goose Down
DROP FUNCTION audit_purge_content();
DROP TABLE audit_content;
DROP TABLE audit_checkpoints;
DROP TABLE audit_nodes;
DROP TABLE audit_records;
DROP FUNCTION audit_content_guard();
DROP FUNCTION audit_append_only();
