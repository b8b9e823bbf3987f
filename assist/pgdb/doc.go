// Package pgdb opens PostgreSQL connection pools (pgx/v5) and runs the
// embedded, numbered migrations that each domain package owns.
//
// It is the only package importing the migration library (goose). Domain
// packages expose their migrations as a MigrationSet; cmd/assist migrate
// and the tests apply them in order. Each set has its own version table, so
// domains evolve independently.
package pgdb
