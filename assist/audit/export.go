package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/soteai/gateway/assist"
)

// The files of an export directory.
const (
	ExportFormat          = "soteai-audit-export/v1"
	ExportRecordsFile     = "records.jsonl"     // one Record (JSON) per line, seq order
	ExportCheckpointsFile = "checkpoints.jsonl" // one Checkpoint per line, size order
	ExportPublicKeyFile   = "checkpoint_public_key.pem"
	ExportManifestFile    = "manifest.json"
)

// Manifest describes an export. It is informational: what proves the
// records is the checkpoints' signatures, checked with a trusted key.
type Manifest struct {
	Format            string    `json:"format"`
	ExportedAt        time.Time `json:"exported_at"`
	Records           int64     `json:"records"`
	FirstSeq          int64     `json:"first_seq"`
	LastSeq           int64     `json:"last_seq"`
	Checkpoints       int       `json:"checkpoints"`
	RecordsSHA256     Hash      `json:"records_sha256"`
	CheckpointsSHA256 Hash      `json:"checkpoints_sha256"`
	KeyID             string    `json:"key_id,omitempty"`
}

// Export writes every record and checkpoint, from one database snapshot,
// to dir (created if needed; existing export files are not overwritten).
// pub, when given, is written alongside for convenience; verifiers should
// still get the key from a trusted place. Errors: conflict (dir already
// holds an export), unavailable, internal (file system).
func Export(ctx context.Context, db *pgxpool.Pool, dir string, pub ed25519.PublicKey) (Manifest, error) {
	const op = "audit.Export"
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Manifest{}, assist.E(assist.KindInternal, op, err)
	}
	for _, f := range []string{ExportRecordsFile, ExportCheckpointsFile, ExportManifestFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return Manifest{}, assist.E(assist.KindConflict, op, "the directory already holds an audit export")
		}
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Manifest{}, translate(op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	m := Manifest{Format: ExportFormat, ExportedAt: time.Now().UTC()}
	var sum hash.Hash
	err = writeJSONL(filepath.Join(dir, ExportRecordsFile), &sum, func(enc *json.Encoder) error {
		return scanRecords(ctx, tx, 1, 0, func(r *Record) error {
			if m.Records == 0 {
				m.FirstSeq = r.Seq
			}
			m.Records++
			m.LastSeq = r.Seq
			return enc.Encode(r)
		})
	})
	if err != nil {
		return Manifest{}, exportErr(op, err)
	}
	m.RecordsSHA256 = sum.Sum(nil)
	cps, err := checkpoints(ctx, tx, `ORDER BY size, id`)
	if err != nil {
		return Manifest{}, translate(op, err)
	}
	m.Checkpoints = len(cps)
	err = writeJSONL(filepath.Join(dir, ExportCheckpointsFile), &sum, func(enc *json.Encoder) error {
		for i := range cps {
			if err := enc.Encode(&cps[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Manifest{}, exportErr(op, err)
	}
	m.CheckpointsSHA256 = sum.Sum(nil)
	if pub != nil {
		m.KeyID = KeyID(pub)
		if err := os.WriteFile(filepath.Join(dir, ExportPublicKeyFile), MarshalPublicKey(pub), 0o644); err != nil {
			return Manifest{}, assist.E(assist.KindInternal, op, err)
		}
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, ExportManifestFile), append(b, '\n'), 0o644); err != nil {
		return Manifest{}, assist.E(assist.KindInternal, op, err)
	}
	return m, nil
}

func exportErr(op string, err error) error {
	var ae *assist.Error
	if errors.As(err, &ae) {
		return err
	}
	return assist.E(assist.KindInternal, op, err)
}

// writeJSONL creates path and lets fill encode lines into it; *sum gets
// the SHA-256 of what was written.
func writeJSONL(path string, sum *hash.Hash, fill func(*json.Encoder) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := fill(enc); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	*sum = h
	return f.Close()
}

// ExportSource reads an export directory for Verify.
type ExportSource struct {
	dir string
}

var _ Source = (*ExportSource)(nil)

// OpenExport checks that dir holds an export and returns it as a Source.
func OpenExport(dir string) (*ExportSource, error) {
	if _, err := os.Stat(filepath.Join(dir, ExportRecordsFile)); err != nil {
		return nil, fmt.Errorf("audit: %s is not an audit export: %w", dir, err)
	}
	return &ExportSource{dir: dir}, nil
}

// PublicKey returns the key stored in the export, if any. It is only as
// trustworthy as the export itself.
func (s *ExportSource) PublicKey() (ed25519.PublicKey, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, ExportPublicKeyFile))
	if err != nil {
		return nil, err
	}
	return ParsePublicKey(b)
}

// Manifest returns the export's manifest.
func (s *ExportSource) Manifest() (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(s.dir, ExportManifestFile))
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// Records decodes records.jsonl in file order, on several goroutines. A
// line that is not a record is an error naming the line.
func (s *ExportSource) Records(ctx context.Context, fn func(*Record) error) error {
	type chunk struct {
		first int // line number of the first line
		lines [][]byte
	}
	const chunkLines = 256
	return orderedMap(ctx, runtime.GOMAXPROCS(0), func(emit func(chunk) error) error {
		c := chunk{first: 1}
		err := readJSONL(ctx, filepath.Join(s.dir, ExportRecordsFile), func(line int, b []byte) error {
			if len(c.lines) == 0 {
				c.first = line
			}
			c.lines = append(c.lines, append([]byte(nil), b...))
			if len(c.lines) == chunkLines {
				if err := emit(c); err != nil {
					return err
				}
				c = chunk{}
			}
			return nil
		})
		if err == nil && len(c.lines) > 0 {
			err = emit(c)
		}
		return err
	}, func(c chunk) ([]Record, error) {
		out := make([]Record, len(c.lines))
		in := interner{}
		for i, b := range c.lines {
			if err := decodeRecordJSON(b, &out[i], in); err != nil {
				return nil, fmt.Errorf("audit: %s line %d: %w", ExportRecordsFile, c.first+i, err)
			}
		}
		return out, nil
	}, func(recs []Record) error {
		for i := range recs {
			if err := fn(&recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Checkpoints decodes checkpoints.jsonl (absent: none).
func (s *ExportSource) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	var out []Checkpoint
	err := readJSONL(ctx, filepath.Join(s.dir, ExportCheckpointsFile), func(line int, b []byte) error {
		var c Checkpoint
		if err := json.Unmarshal(b, &c); err != nil {
			return fmt.Errorf("audit: %s line %d: %w", ExportCheckpointsFile, line, err)
		}
		out = append(out, c)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return out, err
}

func readJSONL(ctx context.Context, path string, fn func(line int, b []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if line%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := fn(line, sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}
