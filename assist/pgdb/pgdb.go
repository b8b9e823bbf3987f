package pgdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/soteai/gateway/assist"
)

// MigrationSet is one domain's embedded migrations: numbered goose SQL files
// (00001_name.sql …) at the root of FS.
type MigrationSet struct {
	Name string // domain name; the version table is "goose_<Name>"
	FS   fs.FS
}

// NewMigrationSet returns the set called name: the migration files in directory dir of
// fsys, typically an embed.FS:
//
//	//go:embed migrations/*.sql
//	var migrationFiles embed.FS
//
//	var Migrations = pgdb.NewMigrationSet("audit", migrationFiles, "migrations")
//
// It panics when dir is not a directory of fsys: a programming error that
// every test run catches.
func NewMigrationSet(name string, fsys fs.FS, dir string) MigrationSet {
	sub, err := fs.Sub(fsys, dir)
	if err == nil {
		_, err = fs.ReadDir(sub, ".")
	}
	if err != nil {
		panic(fmt.Sprintf("pgdb: migrations %s: %v", name, err))
	}
	return MigrationSet{Name: name, FS: sub}
}

// Open connects a pool and checks the connection. maxConns 0 keeps pgx's default.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, assist.E(assist.KindInvalid, "pgdb.Open", "the database URL is not valid", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, assist.E(assist.KindUnavailable, "pgdb.Open", "cannot connect to the database", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, assist.E(assist.KindUnavailable, "pgdb.Open", "cannot connect to the database", err)
	}
	return pool, nil
}

// Migrate applies every set's pending migrations, in the order given.
func Migrate(ctx context.Context, url string, sets ...MigrationSet) error {
	return withProviders(url, "pgdb.Migrate", sets, func(s MigrationSet, p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
}

// MigrateDown rolls every set back to before its first migration, in the
// reverse order of sets: a development and test tool (it drops the data).
func MigrateDown(ctx context.Context, url string, sets ...MigrationSet) error {
	rev := make([]MigrationSet, len(sets))
	for i, s := range sets {
		rev[len(sets)-1-i] = s
	}
	return withProviders(url, "pgdb.MigrateDown", rev, func(s MigrationSet, p *goose.Provider) error {
		_, err := p.DownTo(ctx, 0)
		return err
	})
}

// Pending describes a migration set the database is behind on.
type Pending struct {
	Set             string
	Current, Target int64
}

func (p Pending) String() string { return fmt.Sprintf("%s %d of %d", p.Set, p.Current, p.Target) }

// PendingMigrations reports the sets whose migrations the database lacks
// (a set never migrated counts as version 0). A database ahead of this
// binary (a newer release migrated it) is not pending. It reads only.
func PendingMigrations(ctx context.Context, db *pgxpool.Pool, sets ...MigrationSet) ([]Pending, error) {
	sqlDB := stdlib.OpenDBFromPool(db)
	defer sqlDB.Close()
	var out []Pending
	for _, s := range sets {
		p, err := provider(sqlDB, s)
		if err != nil {
			return nil, fmt.Errorf("pgdb.PendingMigrations %s: %w", s.Name, err)
		}
		var target int64
		for _, src := range p.ListSources() {
			target = max(target, src.Version)
		}
		var exists bool
		if err := db.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", "goose_"+s.Name).Scan(&exists); err != nil {
			return nil, Translate("pgdb.PendingMigrations", err)
		}
		var current int64
		if exists {
			if current, err = p.GetDBVersion(ctx); err != nil {
				return nil, Translate("pgdb.PendingMigrations", err)
			}
		}
		if current < target {
			out = append(out, Pending{Set: s.Name, Current: current, Target: target})
		}
	}
	return out, nil
}

func provider(db *sql.DB, s MigrationSet) (*goose.Provider, error) {
	store, err := database.NewStore(database.DialectPostgres, "goose_"+s.Name)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider("", db, s.FS, goose.WithStore(store), goose.WithDisableGlobalRegistry(true))
}

func withProviders(url, op string, sets []MigrationSet, f func(MigrationSet, *goose.Provider) error) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return assist.E(assist.KindInvalid, op, "the database URL is not valid", err)
	}
	defer db.Close()
	for _, s := range sets {
		p, err := provider(db, s)
		if err != nil {
			return fmt.Errorf("%s %s: %w", op, s.Name, err)
		}
		if err := f(s, p); err != nil {
			return fmt.Errorf("%s %s: %w", op, s.Name, err)
		}
	}
	return nil
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" database/sql driver

// Translate maps a database error to the gateway's error vocabulary:
// unique violations become Conflict, connection failures Unavailable,
// context errors Canceled/Timeout, everything else Internal. The original
// error is kept as the cause (logged only: it may contain patient text).
func Translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *assist.Error
	if errors.As(err, &ae) {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return assist.E(assist.KindCanceled, op, err)
	case errors.Is(err, context.DeadlineExceeded):
		return assist.E(assist.KindTimeout, op, "the database did not answer in time", err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return assist.E(assist.KindConflict, op, "already exists", err)
		case pe.Code == "42501": // insufficient_privilege
			return assist.E(assist.KindForbidden, op, "the database refused the operation", err)
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57"), strings.HasPrefix(pe.Code, "53"):
			return assist.E(assist.KindUnavailable, op, "the database is unavailable", err)
		}
		return assist.E(assist.KindInternal, op, err)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || isConnErr(err) {
		return assist.E(assist.KindUnavailable, op, "the database is unavailable", err)
	}
	return assist.E(assist.KindInternal, op, err)
}

func isConnErr(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var netErr interface{ Timeout() bool }
	return errors.As(err, &netErr)
}

// LogSafe returns err in a form fit for logs: a PostgreSQL error becomes
// its SQLSTATE code and constraint name, because its message can quote the
// values of the statement (patient text). Other errors are kept as they are.
func LogSafe(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	msg := "postgres error " + pe.Code
	if pe.ConstraintName != "" {
		msg += " (" + pe.ConstraintName + ")"
	}
	return &logSafeError{msg: msg, err: err}
}

type logSafeError struct {
	msg string
	err error
}

func (e *logSafeError) Error() string { return e.msg }
func (e *logSafeError) Unwrap() error { return e.err }
