package audit_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/audit/audittest"
	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// TestTamperingIsDetected plays an attacker with superuser rights: the
// append-only triggers are disabled and rows changed directly in SQL.
// Verify, on the live database and on an export of it, names exactly what
// was done.
func TestTamperingIsDetected(t *testing.T) {
	shared := func(tm audittest.Tampering, want ...string) tamperCase {
		return tamperCase{name: tm.Name, tamper: func(t *testing.T, db *pgxpool.Pool) {
			if err := tm.Apply(context.Background(), db); err != nil {
				t.Fatal(err)
			}
		}, want: want}
	}
	tests := []tamperCase{
		{name: "intact"},
		shared(audittest.OutputHashByte, "modified@17"),
		shared(audittest.RowDeleted, "missing@23", "unverifiable#40", "unverifiable#50"),
		shared(audittest.RowsSwapped, "reordered@30", "reordered@31", "root_mismatch@21..40", "root_mismatch@21..50"),
		shared(audittest.TailTruncated, "truncated@46..50"),
		shared(audittest.CheckpointResigned, "forged_checkpoint#50"),
		{
			name: "tail truncated and covered with a forged checkpoint",
			tamper: func(t *testing.T, db *pgxpool.Pool) {
				ctx := context.Background()
				exec(t, db, `DELETE FROM audit_records WHERE seq > 45`)
				exec(t, db, `DELETE FROM audit_checkpoints WHERE size = 50`)
				if _, err := audit.SignStoredCheckpoint(ctx, db, audittest.WrongKey(), audit.DefaultOrigin, audit.BaseTime); err != nil {
					t.Fatal(err)
				}
			},
			extra: true,
			want:  []string{"forged_checkpoint#45", "truncated@46..50"},
		},
		{
			name: "a record rewritten with its hash recomputed",
			tamper: func(t *testing.T, db *pgxpool.Pool) {
				r, err := audit.NewStore(db).Record(context.Background(), 12)
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
			db, _ := pgtest.NewPool(t, audit.Migrations)
			l := audit.OpenTestLog(t, db, nil)
			real, err := audittest.Fill(ctx, l, audit.TestEvent)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}

			if err := audittest.DisableTriggers(ctx, db); err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				tt.tamper(t, db)
			}

			opts := audit.VerifyOptions{PublicKey: audit.TestPub()}
			if tt.extra {
				opts.Extra = real
			}
			rep, err := audit.VerifyDB(ctx, db, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkFindings(t, "database", rep, tt.want)

			dir := filepath.Join(t.TempDir(), "export")
			if _, err := audit.Export(ctx, db, dir, audit.TestPub()); err != nil {
				t.Fatal(err)
			}
			src, err := audit.OpenExport(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err = audit.Verify(ctx, src, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkFindings(t, "export", rep, tt.want)
		})
	}
}

// tamperCase is one attack on the log audittest.Fill builds, and the
// findings verify must report.
type tamperCase struct {
	name   string
	tamper func(t *testing.T, db *pgxpool.Pool)
	extra  bool // verify with the real checkpoints kept elsewhere
	want   []string
}

func checkFindings(t *testing.T, where string, rep *audit.Report, want []string) {
	t.Helper()
	if got := audit.FindingsOf(rep); !reflect.DeepEqual(got, want) {
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
