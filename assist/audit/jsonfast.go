package audit

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
)

// Verification speed is dominated by JSON decoding, so records written by
// this package are decoded by a small dedicated scanner. Anything it does
// not expect (escapes it cannot take literally, null, unknown or
// differently cased keys, non-integer numbers) makes it give up, and
// encoding/json decodes the input instead: results are always exactly
// those of encoding/json.

var errSlowPath = errors.New("audit: not in the fast JSON form")

// decodeRecordJSON decodes one export line. in may be nil; a decoder
// that reuses one shares the storage of repeated short strings.
func decodeRecordJSON(b []byte, r *Record, in interner) error {
	if err := fastRecord(b, r, in); err == nil {
		return nil
	}
	*r = Record{}
	return json.Unmarshal(b, r)
}

// interner returns one string for equal byte strings (actors, models,
// hosts repeat in every record), saving allocations. Not goroutine-safe.
type interner map[string]string

func (in interner) get(b []byte) string {
	if in == nil || len(b) > 64 {
		return string(b)
	}
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < 4096 {
		in[s] = s
	}
	return s
}

type lexer struct {
	b    []byte
	i    int
	in   interner
	hbuf []byte // backing store for the record's hashes
}

func (l *lexer) ws() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return
		}
	}
}

// next skips space and consumes c.
func (l *lexer) next(c byte) bool {
	l.ws()
	if l.i < len(l.b) && l.b[l.i] == c {
		l.i++
		return true
	}
	return false
}

// rawString returns the bytes of a JSON string without escapes.
func (l *lexer) rawString() ([]byte, bool) {
	if !l.next('"') {
		return nil, false
	}
	start := l.i
	for l.i < len(l.b) {
		c := l.b[l.i]
		switch {
		case c == '"':
			s := l.b[start:l.i]
			l.i++
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
		l.i++
	}
	return nil, false
}

func (l *lexer) str() (string, bool) {
	s, ok := l.rawString()
	if !ok {
		return "", false
	}
	return l.in.get(s), true
}

func (l *lexer) int() (int64, bool) {
	l.ws()
	start := l.i
	if l.i < len(l.b) && l.b[l.i] == '-' {
		l.i++
	}
	for l.i < len(l.b) && l.b[l.i] >= '0' && l.b[l.i] <= '9' {
		l.i++
	}
	if l.i < len(l.b) {
		switch l.b[l.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(l.b[start:l.i]), 10, 64)
	return n, err == nil && (l.i-start == 1 || l.b[start] != '0') && !(l.b[start] == '-' && l.i-start > 1 && l.b[start+1] == '0')
}

func (l *lexer) bool() (bool, bool) {
	l.ws()
	switch {
	case len(l.b)-l.i >= 4 && string(l.b[l.i:l.i+4]) == "true":
		l.i += 4
		return true, true
	case len(l.b)-l.i >= 5 && string(l.b[l.i:l.i+5]) == "false":
		l.i += 5
		return false, true
	}
	return false, false
}

func (l *lexer) hash() (Hash, bool) {
	s, ok := l.rawString()
	if !ok {
		return nil, false
	}
	if len(s) == 0 {
		return nil, true
	}
	n := hex.DecodedLen(len(s))
	if cap(l.hbuf)-len(l.hbuf) < n {
		l.hbuf = make([]byte, 0, max(5*32, n))
	}
	h := l.hbuf[len(l.hbuf) : len(l.hbuf)+n : len(l.hbuf)+n]
	if _, err := hex.Decode(h, s); err != nil {
		return nil, false
	}
	l.hbuf = l.hbuf[:len(l.hbuf)+n]
	return h, true
}

func (l *lexer) strings() ([]string, bool) {
	if !l.next('[') {
		return nil, false
	}
	out := []string{}
	if l.next(']') {
		return out, true
	}
	for {
		s, ok := l.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if l.next(']') {
			return out, true
		}
		if !l.next(',') {
			return nil, false
		}
	}
}

func (l *lexer) stringMap() (map[string]string, bool) {
	if !l.next('{') {
		return nil, false
	}
	out := map[string]string{}
	if l.next('}') {
		return out, true
	}
	for {
		k, ok := l.str()
		if !ok || !l.next(':') {
			return nil, false
		}
		v, ok := l.str()
		if !ok {
			return nil, false
		}
		out[k] = v
		if l.next('}') {
			return out, true
		}
		if !l.next(',') {
			return nil, false
		}
	}
}

// fastRecord decodes the JSON form Record marshals to.
func fastRecord(b []byte, r *Record, in interner) error {
	*r = Record{}
	l := &lexer{b: b, in: in}
	if !l.next('{') {
		return errSlowPath
	}
	if l.next('}') {
		return end(l)
	}
	var seen uint64 // a repeated key merges maps in encoding/json: leave it to it
	for {
		key, ok := l.rawString()
		if !ok || !l.next(':') {
			return errSlowPath
		}
		bit := fieldBit(key)
		if bit == 0 || seen&bit != 0 || !fastField(l, bit, r) {
			return errSlowPath
		}
		seen |= bit
		if l.next('}') {
			return end(l)
		}
		if !l.next(',') {
			return errSlowPath
		}
	}
}

func end(l *lexer) error {
	l.ws()
	if l.i != len(l.b) {
		return errSlowPath
	}
	return nil
}

// recordFields are the JSON keys of Record, in struct order.
var recordFields = [...]string{"seq", "time", "kind", "request_id", "actor_token_id", "actor_name", "actor_role",
	"actor_org", "task", "patient", "model", "model_digest", "host", "template_id", "template_version",
	"input_sha256", "output_sha256", "sources", "latency_us", "input_tokens", "output_tokens", "outcome",
	"error_kind", "relates_to", "attrs", "content_stored", "prev_hash", "leaf_hash"}

// fieldBit returns 1<<i for recordFields[i], or 0 for any other key.
func fieldBit(key []byte) uint64 {
	for i := range recordFields {
		if string(key) == recordFields[i] {
			return 1 << i
		}
	}
	return 0
}

// decodeStrings decodes a JSON array of strings (jsonb text output).
func decodeStrings(b []byte) ([]string, error) {
	l := &lexer{b: b}
	if v, ok := l.strings(); ok && end(l) == nil {
		return v, nil
	}
	var v []string
	err := json.Unmarshal(b, &v)
	return v, err
}

// decodeStringMap decodes a JSON object of strings (jsonb text output).
func decodeStringMap(b []byte) (map[string]string, error) {
	l := &lexer{b: b}
	if v, ok := l.stringMap(); ok && end(l) == nil {
		return v, nil
	}
	var v map[string]string
	err := json.Unmarshal(b, &v)
	return v, err
}

func fastField(l *lexer, bit uint64, r *Record) bool {
	var ok bool
	switch recordFields[bits.TrailingZeros64(bit)] {
	case "seq":
		r.Seq, ok = l.int()
	case "time":
		var s []byte
		if s, ok = l.rawString(); ok {
			ok = r.Time.UnmarshalText(s) == nil
		}
	case "kind":
		var s string
		s, ok = l.str()
		r.Kind = EventKind(s)
	case "request_id":
		r.RequestID, ok = l.str()
	case "actor_token_id":
		r.ActorTokenID, ok = l.str()
	case "actor_name":
		r.ActorName, ok = l.str()
	case "actor_role":
		var s string
		s, ok = l.str()
		r.ActorRole = assist.Role(s)
	case "actor_org":
		r.ActorOrg, ok = l.str()
	case "task":
		var s string
		s, ok = l.str()
		r.Task = assist.Task(s)
	case "patient":
		r.Patient, ok = l.hash()
	case "model":
		r.Model, ok = l.str()
	case "model_digest":
		r.ModelDigest, ok = l.str()
	case "host":
		r.Host, ok = l.str()
	case "template_id":
		r.TemplateID, ok = l.str()
	case "template_version":
		r.TemplateVersion, ok = l.str()
	case "input_sha256":
		r.InputHash, ok = l.hash()
	case "output_sha256":
		r.OutputHash, ok = l.hash()
	case "sources":
		r.Sources, ok = l.strings()
	case "latency_us":
		r.LatencyMicros, ok = l.int()
	case "input_tokens":
		r.InputTokens, ok = l.int()
	case "output_tokens":
		r.OutputTokens, ok = l.int()
	case "outcome":
		var s string
		s, ok = l.str()
		r.Outcome = Outcome(s)
	case "error_kind":
		r.ErrorKind, ok = l.str()
	case "relates_to":
		r.RelatesTo, ok = l.int()
	case "attrs":
		r.Attrs, ok = l.stringMap()
	case "content_stored":
		r.ContentStored, ok = l.bool()
	case "prev_hash":
		r.PrevHash, ok = l.hash()
	case "leaf_hash":
		r.LeafHash, ok = l.hash()
	}
	return ok
}
