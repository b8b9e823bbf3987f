-- +goose Up
CREATE TABLE auth_tokens (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL,
    organisation text NOT NULL DEFAULT '',
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE TABLE auth_ollama_keys (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL,
    organisation text NOT NULL DEFAULT '',
    public_key   text NOT NULL UNIQUE, -- base64 of the SSH wire-format key
    fingerprint  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- +goose Down
DROP TABLE auth_ollama_keys;
DROP TABLE auth_tokens;
