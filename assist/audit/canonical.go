package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"
)

// recordMagic starts every canonical record encoding; it names the format
// version so that a future encoding can never be confused with this one.
const recordMagic = "soteai.audit.record.v1"

// Encode returns the canonical encoding of r, the bytes its leaf hash
// covers. The encoding is a fixed sequence of fields, each written as
//
//	str   = uint32 big-endian byte length, then the bytes (UTF-8 for text)
//	int   = int64 big-endian (two's complement)
//	list  = uint32 count, then the elements
//
// in this order: str "soteai.audit.record.v1"; int seq; int time in Unix
// microseconds; str kind, request_id, actor_token_id, actor_name,
// actor_role, actor_org, task; str patient (the 32-byte pseudonym or
// empty); str model, model_digest, host, template_id, template_version;
// str input_sha256, output_sha256 (raw 32 bytes or empty); list of str
// sources; int latency_us, input_tokens, output_tokens; str outcome,
// error_kind; int relates_to; list of (str key, str value) attrs sorted
// by key bytes; one byte content_stored (0 or 1); str prev_hash.
//
// An absent value and an empty one encode the same. LeafHash is not
// covered. Independent verifiers can reimplement this in a few lines.
func (r *Record) Encode() []byte {
	b := make([]byte, 0, 512)
	b = appendHeader(b, r.Seq, r.Time.UnixMicro())
	b = appendBody(b, r)
	return appendStr(b, r.PrevHash)
}

// ComputeLeafHash returns SHA-256(0x00 || r.Encode()), the RFC 6962 leaf
// hash of r.
func (r *Record) ComputeLeafHash() Hash {
	h := sha256.New()
	var buf [512]byte
	return leafHashWith(h, buf[:0], r.Seq, r.Time.UnixMicro(), appendBody(nil, r), r.PrevHash)
}

// leafHashWith hashes a record from its parts; body is appendBody's output.
// scratch is reused for the header.
func leafHashWith(h hash.Hash, scratch []byte, seq, micros int64, body, prev []byte) Hash {
	h.Reset()
	scratch = append(scratch[:0], 0x00)
	scratch = appendHeader(scratch, seq, micros)
	h.Write(scratch)
	h.Write(body)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(prev)))
	h.Write(n[:])
	h.Write(prev)
	return h.Sum(make([]byte, 0, sha256.Size))
}

func appendHeader(b []byte, seq, micros int64) []byte {
	b = appendStr(b, []byte(recordMagic))
	b = appendInt(b, seq)
	return appendInt(b, micros)
}

// appendBody encodes the fields between time and prev_hash.
func appendBody(b []byte, r *Record) []byte {
	b = appendString(b, string(r.Kind))
	b = appendString(b, r.RequestID)
	b = appendString(b, r.ActorTokenID)
	b = appendString(b, r.ActorName)
	b = appendString(b, string(r.ActorRole))
	b = appendString(b, r.ActorOrg)
	b = appendString(b, string(r.Task))
	b = appendStr(b, r.Patient)
	b = appendString(b, r.Model)
	b = appendString(b, r.ModelDigest)
	b = appendString(b, r.Host)
	b = appendString(b, r.TemplateID)
	b = appendString(b, r.TemplateVersion)
	b = appendStr(b, r.InputHash)
	b = appendStr(b, r.OutputHash)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Sources)))
	for _, s := range r.Sources {
		b = appendString(b, s)
	}
	b = appendInt(b, r.LatencyMicros)
	b = appendInt(b, r.InputTokens)
	b = appendInt(b, r.OutputTokens)
	b = appendString(b, string(r.Outcome))
	b = appendString(b, r.ErrorKind)
	b = appendInt(b, r.RelatesTo)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Attrs)))
	if len(r.Attrs) > 0 {
		keys := make([]string, 0, len(r.Attrs))
		for k := range r.Attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, r.Attrs[k])
		}
	}
	if r.ContentStored {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return b
}

func appendStr(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendInt(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v))
}
