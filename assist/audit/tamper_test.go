package audit

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// TestTamperingIsDetected plays an attacker with superuser rights: the
// append-only triggers are disabled and rows changed directly in SQL.
// Verify, on the live database and on an export of it, names exactly what
// was done.
func TestTamperingIsDetected(t *testing.T) {
	tests := []struct {
		name   string
		sql    []string
		tamper func(t *testing.T, db *pgxpool.Pool) // for changes that need Go
		extra  bool                                 // verify with the real checkpoints kept elsewhere
		want   []string
	}{
		{name: "intact"},
		{
			name: "a byte of an output hash changed",
			sql:  []string{`UPDATE audit_records SET output_sha256 = set_byte(output_sha256, 0, (get_byte(output_sha256, 0) + 1) % 256) WHERE seq = 17`},
			want: []string{"modified@17"},
		},
		{
			name: "a row deleted",
			sql:  []string{`DELETE FROM audit_records WHERE seq = 23`},
			want: []string{"missing@23", "unverifiable#40", "unverifiable#50"},
		},
		{
			name: "two rows swapped",
			sql: []string{
				`UPDATE audit_records SET seq = 1000000 WHERE seq = 30`,
				`UPDATE audit_records SET seq = 30 WHERE seq = 31`,
				`UPDATE audit_records SET seq = 31 WHERE seq = 1000000`,
			},
			want: []string{"reordered@30", "reordered@31", "root_mismatch@21..40", "root_mismatch@21..50"},
		},
		{
			name: "the tail truncated",
			sql:  []string{`DELETE FROM audit_records WHERE seq > 45`},
			want: []string{"truncated@46..50"},
		},
		{
			name: "a checkpoint re-signed with a wrong key",
			tamper: func(t *testing.T, db *pgxpool.Pool) {
				cp := resign(t, db, 50)
				exec(t, db, `UPDATE audit_checkpoints SET signature = $1, key_id = $2 WHERE size = 50`, cp.Signature, cp.KeyID)
			},
			want: []string{"forged_checkpoint#50"},
		},
		{
			name: "tail truncated and covered with a forged checkpoint",
			tamper: func(t *testing.T, db *pgxpool.Pool) {
				exec(t, db, `DELETE FROM audit_records WHERE seq > 45`)
				exec(t, db, `DELETE FROM audit_checkpoints WHERE size = 50`)
				rng, tl, err := treeFromStore(context.Background(), db)
				if err != nil {
					t.Fatal(err)
				}
				root, _ := rootOf(rng)
				cp := SignCheckpoint(otherCheckpointKey(), DefaultOrigin, tl.size, root, baseTime)
				if err := insertCheckpoint(context.Background(), db, cp); err != nil {
					t.Fatal(err)
				}
			},
			extra: true,
			want:  []string{"forged_checkpoint#45", "truncated@46..50"},
		},
		{
			name: "a record rewritten with its hash recomputed",
			tamper: func(t *testing.T, db *pgxpool.Pool) {
				r, err := NewStore(db).Record(context.Background(), 12)
				if err != nil {
					t.Fatal(err)
				}
				r.Model = "a-model-that-was-not-approved"
				exec(t, db, `UPDATE audit_records SET model = $1, leaf_hash = $2 WHERE seq = 12`, r.Model, []byte(r.ComputeLeafHash()))
			},
			want: []string{"chain@13", "root_mismatch@1..20", "root_mismatch@1..40", "root_mismatch@1..50"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := pgtest.NewPool(t, Migrations)
			l := openTestLog(t, db, nil)
			for i := 1; i <= 50; i++ {
				if _, err := l.Append(ctx, testEvent(i)); err != nil {
					t.Fatal(err)
				}
				if i%20 == 0 || i == 50 {
					if _, err := l.Checkpoint(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			real, err := l.Checkpoints(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}

			for _, tbl := range []string{"audit_records", "audit_checkpoints"} {
				exec(t, db, `ALTER TABLE `+tbl+` DISABLE TRIGGER USER`)
			}
			for _, s := range tt.sql {
				exec(t, db, s)
			}
			if tt.tamper != nil {
				tt.tamper(t, db)
			}

			opts := VerifyOptions{PublicKey: testPub()}
			if tt.extra {
				opts.Extra = real
			}
			rep, err := VerifyDB(ctx, db, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkFindings(t, "database", rep, tt.want)

			dir := filepath.Join(t.TempDir(), "export")
			if _, err := Export(ctx, db, dir, testPub()); err != nil {
				t.Fatal(err)
			}
			src, err := OpenExport(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err = Verify(ctx, src, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkFindings(t, "export", rep, tt.want)
		})
	}
}

func checkFindings(t *testing.T, where string, rep *Report, want []string) {
	t.Helper()
	if got := findingsOf(rep); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: findings %q, want %q", where, got, want)
		for _, f := range rep.Findings {
			t.Logf("  %s", f)
		}
	}
}

func exec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// resign signs the stored checkpoint of size with the wrong key.
func resign(t *testing.T, db *pgxpool.Pool, size int64) Checkpoint {
	t.Helper()
	cps, err := NewStore(db).Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cps {
		if c.Size == size {
			return SignCheckpoint(otherCheckpointKey(), c.Origin, c.Size, c.Root, c.Time)
		}
	}
	t.Fatalf("no checkpoint of size %d", size)
	return Checkpoint{}
}
