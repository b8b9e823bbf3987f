package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/ssh"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the credential tables.
var Migrations = pgdb.NewMigrationSet("auth", migrationFiles, "migrations")

// TokenPrefix starts every bearer token, so leaked tokens are easy to spot.
const TokenPrefix = "sote_"

// Credential describes a token or an Ollama key (never the secret itself).
type Credential struct {
	ID           string      `json:"id"`
	Kind         string      `json:"kind"` // "token" or "ollama_key"
	Name         string      `json:"name"`
	Role         assist.Role `json:"role"`
	Organisation string      `json:"organisation,omitempty"`
	Fingerprint  string      `json:"fingerprint,omitempty"`
	CreatedAt    time.Time   `json:"created_at"`
	RevokedAt    *time.Time  `json:"revoked_at,omitempty"`
}

// Store keeps credentials in PostgreSQL.
type Store struct {
	db *pgxpool.Pool
}

// NewStore returns a store over db (migrated with Migrations).
func NewStore(db *pgxpool.Pool) *Store { return &Store{db: db} }

func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// HashToken is the stored form of a bearer token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateToken makes a new bearer token and returns it in clear, once.
func (s *Store) CreateToken(ctx context.Context, name string, role assist.Role, org string) (string, Credential, error) {
	const op = "auth.CreateToken"
	if strings.TrimSpace(name) == "" {
		return "", Credential{}, assist.E(assist.KindInvalid, op, "a token needs a name")
	}
	if _, err := assist.ParseRole(string(role)); err != nil {
		return "", Credential{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Credential{}, assist.E(op, err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	c := Credential{ID: newID("tok_"), Kind: "token", Name: name, Role: role, Organisation: org}
	err := s.db.QueryRow(ctx,
		`INSERT INTO auth_tokens (id, name, role, organisation, token_hash) VALUES ($1,$2,$3,$4,$5) RETURNING created_at`,
		c.ID, name, string(role), org, HashToken(token)).Scan(&c.CreatedAt)
	if err != nil {
		return "", Credential{}, pgdb.Translate(op, err)
	}
	return token, c, nil
}

// AddOllamaKey registers an Ollama public key, given as the line in
// ~/.ollama/id_ed25519.pub ("ssh-ed25519 AAAA… [comment]").
func (s *Store) AddOllamaKey(ctx context.Context, name string, role assist.Role, org, authorizedKey string) (Credential, error) {
	const op = "auth.AddOllamaKey"
	if _, err := assist.ParseRole(string(role)); err != nil {
		return Credential{}, err
	}
	pk, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(authorizedKey)))
	if err != nil {
		return Credential{}, assist.E(assist.KindInvalid, op, "the public key is not in OpenSSH format (the content of ~/.ollama/id_ed25519.pub)", err)
	}
	if pk.Type() != ssh.KeyAlgoED25519 {
		return Credential{}, assist.E(assist.KindInvalid, op, "only ssh-ed25519 keys are accepted")
	}
	if strings.TrimSpace(name) == "" {
		name = comment
	}
	if strings.TrimSpace(name) == "" {
		return Credential{}, assist.E(assist.KindInvalid, op, "a key needs a name")
	}
	c := Credential{ID: newID("key_"), Kind: "ollama_key", Name: name, Role: role, Organisation: org, Fingerprint: ssh.FingerprintSHA256(pk)}
	err = s.db.QueryRow(ctx,
		`INSERT INTO auth_ollama_keys (id, name, role, organisation, public_key, fingerprint) VALUES ($1,$2,$3,$4,$5,$6) RETURNING created_at`,
		c.ID, name, string(role), org, base64.StdEncoding.EncodeToString(pk.Marshal()), c.Fingerprint).Scan(&c.CreatedAt)
	if err != nil {
		return Credential{}, pgdb.Translate(op, err)
	}
	return c, nil
}

// List returns every credential, tokens first, oldest first.
func (s *Store) List(ctx context.Context) ([]Credential, error) {
	const op = "auth.List"
	rows, err := s.db.Query(ctx, `
		SELECT id, 'token', name, role, organisation, '', created_at, revoked_at FROM auth_tokens
		UNION ALL
		SELECT id, 'ollama_key', name, role, organisation, fingerprint, created_at, revoked_at FROM auth_ollama_keys
		ORDER BY 2 DESC, 7, 1`)
	if err != nil {
		return nil, pgdb.Translate(op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Credential, error) {
		var c Credential
		var role string
		err := r.Scan(&c.ID, &c.Kind, &c.Name, &role, &c.Organisation, &c.Fingerprint, &c.CreatedAt, &c.RevokedAt)
		c.Role = assist.Role(role)
		return c, err
	})
	return out, pgdb.Translate(op, err)
}

// Delete removes a token or key by id, for rolling back a credential whose
// issue could not be recorded. Errors: not_found.
func (s *Store) Delete(ctx context.Context, id string) error {
	const op = "auth.Delete"
	tag, err := s.db.Exec(ctx, `DELETE FROM `+tableOf(id)+` WHERE id = $1`, id)
	if err != nil {
		return pgdb.Translate(op, err)
	}
	if tag.RowsAffected() == 0 {
		return assist.E(assist.KindNotFound, op, "no credential with that id")
	}
	return nil
}

func tableOf(id string) string {
	if strings.HasPrefix(id, "key_") {
		return "auth_ollama_keys"
	}
	return "auth_tokens"
}

// Revoke revokes a token or key by id. Errors: not_found.
func (s *Store) Revoke(ctx context.Context, id string) error {
	const op = "auth.Revoke"
	tag, err := s.db.Exec(ctx, `UPDATE `+tableOf(id)+` SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return pgdb.Translate(op, err)
	}
	if tag.RowsAffected() == 0 {
		return assist.E(assist.KindNotFound, op, "no active credential with that id")
	}
	return nil
}

func (s *Store) lookupToken(ctx context.Context, hash []byte) (assist.Actor, error) {
	var a assist.Actor
	var role string
	err := s.db.QueryRow(ctx,
		`SELECT id, name, role, organisation FROM auth_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&a.TokenID, &a.Name, &role, &a.Organisation)
	a.Role = assist.Role(role)
	return a, lookupErr("auth.lookupToken", err)
}

func (s *Store) lookupKey(ctx context.Context, blob string) (assist.Actor, error) {
	var a assist.Actor
	var role string
	err := s.db.QueryRow(ctx,
		`SELECT id, name, role, organisation FROM auth_ollama_keys WHERE public_key = $1 AND revoked_at IS NULL`, blob).
		Scan(&a.TokenID, &a.Name, &role, &a.Organisation)
	a.Role = assist.Role(role)
	return a, lookupErr("auth.lookupKey", err)
}

func lookupErr(op string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return assist.E(assist.KindUnauthorized, op, "the credential is not registered or has been revoked")
	}
	return pgdb.Translate(op, err)
}
