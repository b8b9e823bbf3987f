package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"hash"
	"runtime"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/transparency-dev/merkle/compact"
)

// FindingKind classifies what Verify found wrong.
type FindingKind string

const (
	// FindingModified: a record's fields no longer hash to its stored leaf hash.
	FindingModified FindingKind = "modified"
	// FindingMissing: a range of sequence numbers is absent.
	FindingMissing FindingKind = "missing"
	// FindingReordered: records are out of sequence order, or a record
	// sits at another position than the one it was written at.
	FindingReordered FindingKind = "reordered"
	// FindingDuplicate: a sequence number appears twice.
	FindingDuplicate FindingKind = "duplicate"
	// FindingChain: a record's prev_hash is not the leaf hash stored for
	// its predecessor (the predecessor was rewritten, or the chain spliced).
	FindingChain FindingKind = "chain"
	// FindingForgedCheckpoint: a checkpoint's signature does not verify
	// with the trusted key.
	FindingForgedCheckpoint FindingKind = "forged_checkpoint"
	// FindingRootMismatch: a validly signed checkpoint's root differs from
	// the root of the records it covers.
	FindingRootMismatch FindingKind = "root_mismatch"
	// FindingTruncated: a validly signed checkpoint covers more records
	// than exist.
	FindingTruncated FindingKind = "truncated"
	// FindingUnverifiable: a checkpoint cannot be checked because records
	// it covers are missing or out of order (reported separately).
	FindingUnverifiable FindingKind = "unverifiable"
)

// Finding is one precise problem.
type Finding struct {
	Kind FindingKind `json:"kind"`
	// Seq and EndSeq delimit the records concerned (EndSeq 0: just Seq).
	Seq    int64 `json:"seq,omitempty"`
	EndSeq int64 `json:"end_seq,omitempty"`
	// CheckpointSize identifies the checkpoint concerned, if any.
	CheckpointSize int64  `json:"checkpoint_size,omitempty"`
	Detail         string `json:"detail"`
}

func (f Finding) String() string { return string(f.Kind) + ": " + f.Detail }

// Report is the outcome of Verify.
type Report struct {
	Records     int64 `json:"records"`
	FirstSeq    int64 `json:"first_seq"`
	LastSeq     int64 `json:"last_seq"`
	Checkpoints int   `json:"checkpoints"` // checkpoints examined
	// MatchedCheckpoint is the size of the largest validly signed
	// checkpoint whose root matched the stored leaf hashes.
	MatchedCheckpoint int64 `json:"matched_checkpoint"`
	// VerifiedSize is the intact prefix: seq 1..VerifiedSize hash to
	// their leaves, chain, and match MatchedCheckpoint, with no finding.
	VerifiedSize int64 `json:"verified_size"`
	// Root is the root hash of all records (when they are contiguous).
	Root     Hash          `json:"root,omitempty"`
	KeyID    string        `json:"key_id"`
	Elapsed  time.Duration `json:"elapsed_ns"`
	Findings []Finding     `json:"findings"`
	// Omitted counts findings left out beyond MaxFindings.
	Omitted int `json:"omitted,omitempty"`
}

// MaxFindings bounds the findings a report lists.
const MaxFindings = 10000

// OK reports whether nothing was found wrong.
func (r *Report) OK() bool { return len(r.Findings) == 0 && r.Omitted == 0 }

// Source yields what Verify checks. Records are given in stored order
// (seq order for the database, file order for an export). fn may keep r
// and what it points to: a source must give fresh records.
type Source interface {
	Records(ctx context.Context, fn func(r *Record) error) error
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
}

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// PublicKey is the trusted checkpoint key. It should come from outside
	// the data being verified; required.
	PublicKey ed25519.PublicKey
	// Extra are checkpoints kept elsewhere (an earlier export, a witness);
	// they are checked like the stored ones, and protect against an
	// attacker who also deleted checkpoints.
	Extra []Checkpoint
}

// maxSuspects bounds how many modified records are kept to explain
// reorderings; beyond it records are only reported as modified.
const maxSuspects = 1024

// Verify checks every record's leaf hash, the sequence (gaps, order,
// duplicates), the hash chain and every checkpoint's signature and root,
// and reports each problem precisely. An error means the source could
// not be read; problems in the data are Findings.
func Verify(ctx context.Context, src Source, opts VerifyOptions) (*Report, error) {
	start := time.Now()
	if len(opts.PublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("audit.Verify: a trusted Ed25519 public key is required")
	}
	cps, err := src.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	v := newVerifier(opts.PublicKey, append(cps, opts.Extra...))
	// Decoding (in the source) and hashing run on other goroutines than
	// the sequential checks.
	const batchSize = 512
	type hashed struct {
		recs   []Record
		leaves []byte // 32 bytes per record
	}
	err = orderedMap(ctx, runtime.GOMAXPROCS(0), func(emit func([]Record) error) error {
		batch := make([]Record, 0, batchSize)
		err := src.Records(ctx, func(r *Record) error {
			batch = append(batch, *r)
			if len(batch) == batchSize {
				if err := emit(batch); err != nil {
					return err
				}
				batch = make([]Record, 0, batchSize)
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			err = emit(batch)
		}
		return err
	}, func(recs []Record) (hashed, error) {
		h := sha256.New()
		buf := make([]byte, 0, 1024)
		out := hashed{recs: recs, leaves: make([]byte, 0, sha256.Size*len(recs))}
		for i := range recs {
			buf = appendRecordData(append(buf[:0], 0x00), &recs[i], recs[i].Seq)
			h.Reset()
			h.Write(buf)
			out.leaves = h.Sum(out.leaves)
		}
		return out, nil
	}, func(b hashed) error {
		for i := range b.recs {
			if err := v.add(&b.recs[i], b.leaves[i*sha256.Size:(i+1)*sha256.Size]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := v.finish()
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// VerifyDB verifies the live database in one consistent snapshot.
func VerifyDB(ctx context.Context, db *pgxpool.Pool, opts VerifyOptions) (*Report, error) {
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, translate("audit.VerifyDB", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return Verify(ctx, dbSource{tx}, opts)
}

type dbSource struct{ q querier }

func (s dbSource) Records(ctx context.Context, fn func(*Record) error) error {
	return scanRecords(ctx, s.q, 1, 0, fn)
}

func (s dbSource) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	cps, err := checkpoints(ctx, s.q, `ORDER BY size, id`)
	if err != nil {
		return nil, translate("audit.Checkpoints", err)
	}
	return cps, nil
}

type gap struct{ from, to int64 }

type suspect struct {
	rec      Record
	computed Hash
}

type verifier struct {
	pub      ed25519.PublicKey
	rep      Report
	findings []Finding

	cps   []Checkpoint // validly signed, by size
	cpIdx int

	rng        *compact.Range
	contiguous bool // no gap or disorder so far: the tree can be rebuilt
	expected   int64
	lastSeq    int64 // last record taken in order
	lastLeaf   Hash
	gaps       []gap
	suspects   []suspect
	overflow   []int64 // modified records beyond maxSuspects
	breaks     []int64 // seqs whose prev_hash does not match
	verified   int64   // last matching checkpoint size

	h   hash.Hash
	buf []byte
	sum []byte
}

func newVerifier(pub ed25519.PublicKey, all []Checkpoint) *verifier {
	v := &verifier{pub: pub, rng: rangeFactory.NewEmptyRange(0), contiguous: true, expected: 1,
		lastLeaf: make(Hash, sha256.Size), h: sha256.New(), buf: make([]byte, 0, 1024)}
	v.rep.KeyID = KeyID(pub)
	v.rep.Checkpoints = len(all)
	for _, c := range all {
		if err := c.VerifySignature(pub); err != nil {
			v.findings = append(v.findings, Finding{Kind: FindingForgedCheckpoint, CheckpointSize: c.Size,
				Detail: fmt.Sprintf("checkpoint of size %d signed at %s (key %s): signature does not verify with the trusted key %s: forged or re-signed",
					c.Size, c.Time.Format(time.RFC3339), c.KeyID, v.rep.KeyID)})
			continue
		}
		v.cps = append(v.cps, c)
	}
	sort.SliceStable(v.cps, func(i, j int) bool { return v.cps[i].Size < v.cps[j].Size })
	v.checkCheckpoints()
	return v
}

// appendRecordData appends r's canonical encoding as if it had seq.
func appendRecordData(b []byte, r *Record, seq int64) []byte {
	b = appendHeader(b, seq, r.Time.UnixMicro())
	b = appendBody(b, r)
	return appendStr(b, r.PrevHash)
}

// computeLeaf hashes r as if it had seq, with reused buffers.
func (v *verifier) computeLeaf(r *Record, seq int64) []byte {
	v.buf = appendRecordData(append(v.buf[:0], 0x00), r, seq)
	v.h.Reset()
	v.h.Write(v.buf)
	v.sum = v.h.Sum(v.sum[:0])
	return v.sum
}

// add checks one record; computed is its leaf hash computed afresh.
func (v *verifier) add(r *Record, computed []byte) error {
	v.rep.Records++
	if v.rep.Records == 1 {
		v.rep.FirstSeq = r.Seq
	}
	if !bytes.Equal(computed, r.LeafHash) {
		if len(v.suspects) < maxSuspects {
			v.suspects = append(v.suspects, suspect{rec: cloneRecord(r), computed: append(Hash(nil), computed...)})
		} else {
			v.overflow = append(v.overflow, r.Seq)
		}
	}
	switch {
	case r.Seq == v.expected:
	case r.Seq > v.expected:
		v.gaps = append(v.gaps, gap{v.expected, r.Seq - 1})
		v.contiguous = false
	default: // at or below a seq already seen
		if i := v.gapIndex(r.Seq); i >= 0 {
			g := v.gaps[i]
			v.gaps = append(v.gaps[:i], v.gaps[i+1:]...)
			if g.from < r.Seq {
				v.gaps = append(v.gaps, gap{g.from, r.Seq - 1})
			}
			if r.Seq < g.to {
				v.gaps = append(v.gaps, gap{r.Seq + 1, g.to})
			}
			v.findings = append(v.findings, Finding{Kind: FindingReordered, Seq: r.Seq,
				Detail: fmt.Sprintf("seq %d appears after seq %d: records are out of order", r.Seq, v.lastSeq)})
		} else {
			v.findings = append(v.findings, Finding{Kind: FindingDuplicate, Seq: r.Seq,
				Detail: fmt.Sprintf("seq %d appears more than once", r.Seq)})
		}
		return nil
	}
	if r.Seq == v.lastSeq+1 && !bytes.Equal(r.PrevHash, v.lastLeaf) {
		v.breaks = append(v.breaks, r.Seq)
	}
	if v.contiguous {
		leaf := r.LeafHash
		if len(leaf) != sha256.Size {
			leaf = computed // a damaged stored hash: use the computed one (already reported)
		}
		if err := v.rng.Append(append([]byte(nil), leaf...), nil); err != nil {
			return err
		}
		v.checkCheckpoints()
	}
	v.lastSeq, v.expected = r.Seq, r.Seq+1
	v.lastLeaf = append(v.lastLeaf[:0], r.LeafHash...)
	v.rep.LastSeq = r.Seq
	return nil
}

func (v *verifier) gapIndex(seq int64) int {
	for i, g := range v.gaps {
		if seq >= g.from && seq <= g.to {
			return i
		}
	}
	return -1
}

// checkCheckpoints compares the checkpoints of the current tree size.
func (v *verifier) checkCheckpoints() {
	size := int64(v.rng.End())
	for v.cpIdx < len(v.cps) && v.cps[v.cpIdx].Size <= size {
		c := v.cps[v.cpIdx]
		v.cpIdx++
		if c.Size < size {
			continue // only when the tree skipped it: cannot happen in order
		}
		root, err := rootOf(v.rng)
		if err != nil {
			continue
		}
		if !bytes.Equal(root, c.Root) {
			v.findings = append(v.findings, Finding{Kind: FindingRootMismatch, Seq: v.verified + 1, EndSeq: c.Size, CheckpointSize: c.Size,
				Detail: fmt.Sprintf("checkpoint of size %d signed at %s: root hash mismatch: records in seq %d..%d differ from what was signed",
					c.Size, c.Time.Format(time.RFC3339), v.verified+1, c.Size)})
			continue
		}
		if c.Size > v.verified {
			v.verified = c.Size
		}
	}
}

func (v *verifier) finish() *Report {
	rep := &v.rep
	rep.MatchedCheckpoint = v.verified
	if v.contiguous {
		if root, err := rootOf(v.rng); err == nil {
			rep.Root = root
		}
	}
	// Checkpoints beyond what could be rebuilt.
	var truncated *Checkpoint
	for ; v.cpIdx < len(v.cps); v.cpIdx++ {
		c := v.cps[v.cpIdx]
		if c.Size > v.lastSeq {
			if truncated == nil || c.Size > truncated.Size {
				truncated = &v.cps[v.cpIdx]
			}
			continue
		}
		v.findings = append(v.findings, Finding{Kind: FindingUnverifiable, CheckpointSize: c.Size,
			Detail: fmt.Sprintf("checkpoint of size %d cannot be checked: records it covers are missing or out of order", c.Size)})
	}
	if truncated != nil {
		v.findings = append(v.findings, Finding{Kind: FindingTruncated, Seq: v.lastSeq + 1, EndSeq: truncated.Size, CheckpointSize: truncated.Size,
			Detail: fmt.Sprintf("checkpoint of size %d signed at %s covers seq %d..%d, which are absent: the log was truncated after seq %d",
				truncated.Size, truncated.Time.Format(time.RFC3339), v.lastSeq+1, truncated.Size, v.lastSeq)})
	}
	for _, g := range v.gaps {
		f := Finding{Kind: FindingMissing, Seq: g.from, EndSeq: g.to,
			Detail: fmt.Sprintf("seq %d..%d absent (%d records)", g.from, g.to, g.to-g.from+1)}
		if g.from == g.to {
			f.EndSeq, f.Detail = 0, fmt.Sprintf("seq %d absent", g.from)
		}
		v.findings = append(v.findings, f)
	}
	moved := v.resolveSuspects()
	isSuspect := map[int64]bool{}
	for _, s := range v.suspects {
		isSuspect[s.rec.Seq] = true
	}
	for _, s := range v.overflow {
		isSuspect[s] = true
	}
	for _, seq := range v.overflow {
		v.findings = append(v.findings, modifiedFinding(seq))
	}
	for _, seq := range v.breaks {
		if isSuspect[seq] || moved[seq-1] {
			continue // explained by the record's own finding
		}
		v.findings = append(v.findings, Finding{Kind: FindingChain, Seq: seq,
			Detail: fmt.Sprintf("seq %d: prev_hash does not match the leaf hash stored for seq %d: seq %d was rewritten (hash recomputed) or records were spliced", seq, seq-1, seq-1)})
	}
	sort.SliceStable(v.findings, func(i, j int) bool {
		a, b := v.findings[i], v.findings[j]
		if ka, kb := findingKey(a), findingKey(b); ka != kb {
			return ka < kb
		}
		return a.CheckpointSize == 0 && b.CheckpointSize != 0
	})
	rep.Findings = v.findings
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	rep.VerifiedSize = v.verified
	for _, f := range rep.Findings {
		if f.CheckpointSize == 0 && f.Seq > 0 && f.Seq-1 < rep.VerifiedSize {
			rep.VerifiedSize = f.Seq - 1
		}
	}
	if len(rep.Findings) > MaxFindings {
		rep.Omitted = len(rep.Findings) - MaxFindings
		rep.Findings = rep.Findings[:MaxFindings]
	}
	return rep
}

// findingKey orders findings: checkpoint findings by checkpoint size,
// record findings by seq.
func findingKey(f Finding) int64 {
	if f.CheckpointSize != 0 {
		return f.CheckpointSize
	}
	return f.Seq
}

func modifiedFinding(seq int64) Finding {
	return Finding{Kind: FindingModified, Seq: seq,
		Detail: fmt.Sprintf("seq %d: leaf hash mismatch: the record was modified after it was written", seq)}
}

// resolveSuspects tells moved records from modified ones: a record whose
// fields hash to its stored leaf hash when given another suspect's (or a
// missing) position was moved there. It returns the positions explained
// as moves.
func (v *verifier) resolveSuspects() map[int64]bool {
	moved := map[int64]bool{}
	var candidates []int64
	for _, s := range v.suspects {
		candidates = append(candidates, s.rec.Seq)
	}
	missing := int64(0)
	for _, g := range v.gaps {
		missing += g.to - g.from + 1
	}
	if missing <= maxSuspects {
		for _, g := range v.gaps {
			for s := g.from; s <= g.to; s++ {
				candidates = append(candidates, s)
			}
		}
	}
	for _, s := range v.suspects {
		found := int64(0)
		if len(s.rec.LeafHash) == sha256.Size {
			for _, c := range candidates {
				if c != s.rec.Seq && bytes.Equal(v.computeLeaf(&s.rec, c), s.rec.LeafHash) {
					found = c
					break
				}
			}
		}
		if found == 0 {
			v.findings = append(v.findings, modifiedFinding(s.rec.Seq))
			continue
		}
		moved[s.rec.Seq] = true
		v.findings = append(v.findings, Finding{Kind: FindingReordered, Seq: s.rec.Seq,
			Detail: fmt.Sprintf("seq %d holds the record written as seq %d: rows were reordered", s.rec.Seq, found)})
	}
	return moved
}

func cloneRecord(r *Record) Record {
	c := *r
	c.Sources = append([]string(nil), r.Sources...)
	if r.Attrs != nil {
		c.Attrs = make(map[string]string, len(r.Attrs))
		for k, val := range r.Attrs {
			c.Attrs[k] = val
		}
	}
	c.Patient = append(Hash(nil), r.Patient...)
	c.InputHash = append(Hash(nil), r.InputHash...)
	c.OutputHash = append(Hash(nil), r.OutputHash...)
	c.PrevHash = append(Hash(nil), r.PrevHash...)
	c.LeafHash = append(Hash(nil), r.LeafHash...)
	return c
}
