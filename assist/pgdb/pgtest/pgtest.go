// Package pgtest gives tests a fresh, migrated PostgreSQL database.
//
// It reads TEST_DATABASE_URL (a superuser connection to the test cluster
// that scripts/stack.sh starts). Without it a test skips with a clear
// message, except when CI=true, where it fails: a missing database must
// never give a green build. A Proxy in front of the database lets a test
// simulate an outage.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/pgdb"
)

// URL returns TEST_DATABASE_URL, skipping (or failing under CI=true) when unset.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set: the real PostgreSQL is required under CI=true (run via make test)")
		}
		t.Skip("TEST_DATABASE_URL is not set; run `make test` to start the real PostgreSQL")
	}
	return u
}

// NewDatabase creates an empty database, applies
// the given migration sets and returns its URL; it is dropped at cleanup.
func NewDatabase(t testing.TB, sets ...pgdb.MigrationSet) string {
	t.Helper()
	base := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: parse URL: %v", err)
	}
	u.Path = "/" + name
	dbURL := u.String()
	if err := pgdb.Migrate(ctx, dbURL, sets...); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return dbURL
}

// NewPool is NewDatabase plus an open pool, closed at cleanup.
func NewPool(t testing.TB, sets ...pgdb.MigrationSet) (*pgxpool.Pool, string) {
	t.Helper()
	u := NewDatabase(t, sets...)
	pool, err := pgdb.Open(context.Background(), u, 0)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool, u
}
