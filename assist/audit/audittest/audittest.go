package audittest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist/audit"
)

// Fill appends event(1) .. event(50) to an empty log, signing a checkpoint
// after records 20, 40 and 50, and returns the checkpoints.
func Fill(ctx context.Context, l *audit.Log, event func(i int) audit.Event) ([]audit.Checkpoint, error) {
	for i := 1; i <= 50; i++ {
		if _, err := l.Append(ctx, event(i)); err != nil {
			return nil, err
		}
		if i%20 == 0 || i == 50 {
			if _, err := l.Checkpoint(ctx); err != nil {
				return nil, err
			}
		}
	}
	return l.Checkpoints(ctx)
}

// Tampering is one change an attacker with superuser rights makes directly
// in the database, behind the gateway's back.
type Tampering struct {
	Name string
	// SQL are the statements the attacker runs, in order.
	SQL []string
	// tamper does what SQL alone cannot (signing), after SQL.
	tamper func(ctx context.Context, db *pgxpool.Pool) error
}

// The tamperings the audit issue lists; each must be detected by verify.
var (
	// OutputHashByte changes one byte of seq 17's output hash.
	OutputHashByte = Tampering{
		Name: "a byte of an output hash changed",
		SQL:  []string{`UPDATE audit_records SET output_sha256 = set_byte(output_sha256, 0, (get_byte(output_sha256, 0) + 1) % 256) WHERE seq = 17`},
	}
	// RowDeleted deletes seq 23.
	RowDeleted = Tampering{
		Name: "a row deleted",
		SQL:  []string{`DELETE FROM audit_records WHERE seq = 23`},
	}
	// RowsSwapped swaps seq 30 and 31.
	RowsSwapped = Tampering{
		Name: "two rows swapped",
		SQL: []string{
			`UPDATE audit_records SET seq = 1000000 WHERE seq = 30`,
			`UPDATE audit_records SET seq = 30 WHERE seq = 31`,
			`UPDATE audit_records SET seq = 31 WHERE seq = 1000000`,
		},
	}
	// TailTruncated deletes seq 46..50.
	TailTruncated = Tampering{
		Name: "the tail truncated",
		SQL:  []string{`DELETE FROM audit_records WHERE seq > 45`},
	}
	// CheckpointResigned signs the checkpoint of size 50 again with
	// WrongKey and stores that signature in place of the real one.
	CheckpointResigned = Tampering{
		Name: "a checkpoint re-signed with a wrong key",
		tamper: func(ctx context.Context, db *pgxpool.Pool) error {
			return Resign(ctx, db, 50, WrongKey())
		},
	}
)

// Tamperings lists the tamperings above.
func Tamperings() []Tampering {
	return []Tampering{OutputHashByte, RowDeleted, RowsSwapped, TailTruncated, CheckpointResigned}
}

// WrongKey is a fixed checkpoint key that no test log trusts.
func WrongKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)) }

// DisableTriggers switches off the append-only triggers of the audit
// tables, as a superuser (or the tables' owner) can.
func DisableTriggers(ctx context.Context, db *pgxpool.Pool) error {
	for _, tbl := range []string{"audit_records", "audit_checkpoints"} {
		if _, err := db.Exec(ctx, `ALTER TABLE `+tbl+` DISABLE TRIGGER USER`); err != nil {
			return fmt.Errorf("audittest: %s: %w", tbl, err)
		}
	}
	return nil
}

// Apply disables the append-only triggers and carries the tampering out
// on db, which must be connected as a superuser.
func (tm Tampering) Apply(ctx context.Context, db *pgxpool.Pool) error {
	if err := DisableTriggers(ctx, db); err != nil {
		return err
	}
	for _, s := range tm.SQL {
		if _, err := db.Exec(ctx, s); err != nil {
			return fmt.Errorf("audittest: %s: %s: %w", tm.Name, s, err)
		}
	}
	if tm.tamper != nil {
		if err := tm.tamper(ctx, db); err != nil {
			return fmt.Errorf("audittest: %s: %w", tm.Name, err)
		}
	}
	return nil
}

// Resign replaces the signature of the stored checkpoint of the given size
// with one made by key (the triggers must be disabled).
func Resign(ctx context.Context, db *pgxpool.Pool, size int64, key ed25519.PrivateKey) error {
	cps, err := audit.NewStore(db).Checkpoints(ctx)
	if err != nil {
		return err
	}
	for _, c := range cps {
		if c.Size == size {
			cp := audit.SignCheckpoint(key, c.Origin, c.Size, c.Root, c.Time)
			_, err := db.Exec(ctx, `UPDATE audit_checkpoints SET signature = $1, key_id = $2 WHERE size = $3`,
				cp.Signature, cp.KeyID, size)
			return err
		}
	}
	return fmt.Errorf("no checkpoint of size %d", size)
}
