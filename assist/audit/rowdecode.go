package audit

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/soteai/gateway/assist"
)

// Reading records for verification and export is dominated by per-column
// scanning, so rows in PostgreSQL's binary format are decoded directly
// here, sharing repeated strings. A result in any other form goes
// through pgx's Scan (scanRecord).

var errRowFormat = errors.New("audit: unexpected column format")

// pgEpoch is the zero of PostgreSQL's binary timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// recordTypes are the column type OIDs recordSelect returns.
var recordTypes = [...]uint32{
	20, 1184, 25, 25, 25, 25, 25, 25, // seq .. actor_org
	25, 17, 25, 25, 25, 25, 25, 17, 17, // task .. output_sha256
	3802, 20, 20, 20, 25, 25, 20, 3802, // sources .. attrs
	16, 17, 17, // content_stored, prev_hash, leaf_hash
}

// rowFormat says how decodeRow can read a result.
type rowFormat struct {
	ok          bool // decodeRow can read it
	jsonbBinary bool // jsonb columns carry the version byte
}

// formatOf checks that rows carry recordSelect's columns in formats
// decodeRow reads: binary numbers, times and bytea; text is the same
// bytes in both formats; jsonb as text or as binary (version 1 + text).
func formatOf(rows pgx.Rows) rowFormat {
	fds := rows.FieldDescriptions()
	if len(fds) != len(recordTypes) {
		return rowFormat{}
	}
	f := rowFormat{ok: true}
	for i, fd := range fds {
		switch {
		case fd.DataTypeOID != recordTypes[i]:
			return rowFormat{}
		case fd.DataTypeOID == 3802:
			f.jsonbBinary = fd.Format == pgx.BinaryFormatCode
		case fd.DataTypeOID != 25 && fd.Format != pgx.BinaryFormatCode:
			return rowFormat{}
		}
	}
	return f
}

// decodeRow fills r from one row in format f.
func decodeRow(v [][]byte, f rowFormat, r *Record, in interner) error {
	*r = Record{}
	i64 := func(b []byte) (int64, error) {
		if len(b) != 8 {
			return 0, errRowFormat
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	var err error
	if r.Seq, err = i64(v[0]); err != nil {
		return err
	}
	us, err := i64(v[1])
	if err != nil || us == 1<<63-1 || us == -1<<63 { // ±infinity
		return errRowFormat
	}
	r.Time = pgEpoch.Add(time.Duration(us) * time.Microsecond)
	r.Kind = EventKind(in.get(v[2]))
	r.RequestID = in.get(v[3])
	r.ActorTokenID = in.get(v[4])
	r.ActorName = in.get(v[5])
	r.ActorRole = assist.Role(in.get(v[6]))
	r.ActorOrg = in.get(v[7])
	r.Task = assist.Task(in.get(v[8]))
	r.Model = in.get(v[10])
	r.ModelDigest = in.get(v[11])
	r.Host = in.get(v[12])
	r.TemplateID = in.get(v[13])
	r.TemplateVersion = in.get(v[14])
	// One allocation for the record's five hashes.
	total := len(v[9]) + len(v[15]) + len(v[16]) + len(v[26]) + len(v[27])
	buf := make([]byte, 0, total)
	take := func(b []byte) Hash {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return Hash(buf[start:len(buf):len(buf)])
	}
	r.Patient, r.InputHash, r.OutputHash = take(v[9]), take(v[15]), take(v[16])
	r.PrevHash, r.LeafHash = take(v[26]), take(v[27])
	sources, attrs := v[17], v[24]
	if f.jsonbBinary {
		if len(sources) < 1 || sources[0] != 1 || len(attrs) < 1 || attrs[0] != 1 { // jsonb version 1
			return errRowFormat
		}
		sources, attrs = sources[1:], attrs[1:]
	}
	l := &lexer{b: sources, in: in}
	var ok bool
	if r.Sources, ok = l.strings(); !ok || end(l) != nil {
		if r.Sources, err = decodeStrings(sources); err != nil {
			return err
		}
	}
	l = &lexer{b: attrs, in: in}
	if r.Attrs, ok = l.stringMap(); !ok || end(l) != nil {
		if r.Attrs, err = decodeStringMap(attrs); err != nil {
			return err
		}
	}
	if len(r.Sources) == 0 {
		r.Sources = nil
	}
	if len(r.Attrs) == 0 {
		r.Attrs = nil
	}
	if r.LatencyMicros, err = i64(v[18]); err != nil {
		return err
	}
	if r.InputTokens, err = i64(v[19]); err != nil {
		return err
	}
	if r.OutputTokens, err = i64(v[20]); err != nil {
		return err
	}
	r.Outcome = Outcome(in.get(v[21]))
	r.ErrorKind = in.get(v[22])
	if r.RelatesTo, err = i64(v[23]); err != nil {
		return err
	}
	if len(v[25]) != 1 {
		return errRowFormat
	}
	r.ContentStored = v[25][0] == 1
	return nil
}
