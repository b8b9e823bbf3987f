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
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// DurableURL returns TEST_DURABLE_DATABASE_URL: a second cluster of the
// stack that runs with fsync, synchronous_commit and full_page_writes on
// (the test cluster runs with them off), for benchmarks whose claim is
// that each caller waits for its durable record. scripts/stack.sh starts
// it for the bench stack (or with STACK_DURABLE=1). Without it the
// benchmark skips, or fails under CI=true.
func DurableURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DURABLE_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DURABLE_DATABASE_URL is not set: the durable PostgreSQL cluster is required under CI=true (make bench, or STACK_DURABLE=1)")
		}
		t.Skip("TEST_DURABLE_DATABASE_URL is not set; `make bench` (or STACK_DURABLE=1 scripts/stack.sh start) starts the durable cluster")
	}
	return u
}

// NewDurableDatabase is NewDatabase on the durable cluster (DurableURL).
func NewDurableDatabase(t testing.TB, sets ...pgdb.MigrationSet) string {
	t.Helper()
	return newDatabaseAt(t, DurableURL(t), sets)
}

// NewDurablePool is NewPool on the durable cluster (DurableURL).
func NewDurablePool(t testing.TB, sets ...pgdb.MigrationSet) (*pgxpool.Pool, string) {
	t.Helper()
	u := NewDurableDatabase(t, sets...)
	pool, err := pgdb.Open(context.Background(), u, 0)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool, u
}

// NewDatabase creates a database with the given migration sets applied
// and returns its URL; it is dropped at cleanup. The sets are migrated
// once into a template database (shared by every test process of the
// cluster, keyed by the migration files' content) and each test gets a
// copy of it, which is much faster than migrating per test.
func NewDatabase(t testing.TB, sets ...pgdb.MigrationSet) string {
	t.Helper()
	return newDatabaseAt(t, URL(t), sets)
}

func newDatabaseAt(t testing.TB, base string, sets []pgdb.MigrationSet) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "test_" + hex.EncodeToString(b)
	create := "CREATE DATABASE " + name
	if len(sets) > 0 {
		tmpl, err := template(ctx, admin, base, sets)
		if err != nil {
			t.Fatalf("pgtest: template database: %v", err)
		}
		create += " TEMPLATE " + tmpl
	}
	if err := createDatabase(ctx, admin, create); err != nil {
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
	return withDatabase(t, base, name)
}

func withDatabase(t testing.TB, base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: parse URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// createDatabase runs a CREATE DATABASE, retrying while its template is
// still being accessed (another test copying it at the same moment, or
// the migration's connections not yet gone).
func createDatabase(ctx context.Context, admin *pgx.Conn, stmt string) error {
	for {
		_, err := admin.Exec(ctx, stmt)
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != "55006" {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

var templates sync.Map // key -> template database name, per process

// template returns the name of a database with sets migrated, creating it
// once per cluster under an advisory lock.
func template(ctx context.Context, admin *pgx.Conn, base string, sets []pgdb.MigrationSet) (string, error) {
	key, err := setsKey(sets)
	if err != nil {
		return "", err
	}
	name := "tmpl_" + key[:16]
	if _, ok := templates.Load(base + " " + name); ok { // per cluster
		return name, nil
	}
	lock := int64(binary.BigEndian.Uint64([]byte(key[:8])))
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", lock); err != nil {
		return "", err
	}
	defer func() { _, _ = admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lock) }()
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		build := name + "_build"
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+build+" WITH (FORCE)")
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+build); err != nil {
			return "", err
		}
		u, err := url.Parse(base)
		if err != nil {
			return "", err
		}
		u.Path = "/" + build
		if err := pgdb.Migrate(ctx, u.String(), sets...); err != nil {
			return "", fmt.Errorf("migrate: %w", err)
		}
		// Renamed only when complete, so a crash never leaves a half
		// migrated template behind.
		if err := createDatabase(ctx, admin, "ALTER DATABASE "+build+" RENAME TO "+name); err != nil {
			return "", err
		}
	}
	templates.Store(base+" "+name, true)
	return name, nil
}

// setsKey hashes the names and migration files of sets, in order.
func setsKey(sets []pgdb.MigrationSet) (string, error) {
	h := sha256.New()
	for _, s := range sets {
		fmt.Fprintf(h, "set %s\n", s.Name)
		err := fs.WalkDir(s.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(s.FS, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "file %s %d\n", p, len(b))
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
