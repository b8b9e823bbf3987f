package audit

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// The tree is the RFC 6962 Merkle tree over the records' leaf hashes; leaf
// index i is seq i+1. Leaf hashes live in the records table. Of the
// internal nodes only those at levels 4, 8, 12, … are stored (audit_nodes),
// about one per 15 records; any other node is recomputed from at most 8
// stored hashes below it. A proof needs O(log n) such nodes.
const tileStride = 4

var (
	hasher       = rfc6962.DefaultHasher
	rangeFactory = &compact.RangeFactory{Hash: hasher.HashChildren}
)

// zeroHash is the prev_hash of the first record.
var zeroHash = make(Hash, 32)

// storedNode reports whether an internal node is persisted.
func storedNode(id compact.NodeID) bool { return id.Level > 0 && id.Level%tileStride == 0 }

// EmptyRoot is the root hash of the empty tree, SHA-256 of nothing.
func EmptyRoot() Hash { return hasher.EmptyRoot() }

// InclusionProof proves that the record Seq is leaf Seq-1 of the tree of
// TreeSize records (RFC 6962 audit path, leaf to root).
type InclusionProof struct {
	Seq      int64  `json:"seq"`
	TreeSize int64  `json:"tree_size"`
	Hashes   []Hash `json:"hashes"`
}

// ConsistencyProof proves that the tree of size From is a prefix of the
// tree of size To (RFC 6962).
type ConsistencyProof struct {
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Hashes []Hash `json:"hashes"`
}

// VerifyInclusion checks that r, hashed afresh from its fields, is in the
// tree with the given root. Pair it with Checkpoint.VerifySignature on the
// checkpoint the root comes from.
func VerifyInclusion(r *Record, p InclusionProof, root []byte) error {
	if p.Seq != r.Seq || p.Seq < 1 || p.Seq > p.TreeSize {
		return fmt.Errorf("audit: inclusion proof is for seq %d of %d, record is seq %d", p.Seq, p.TreeSize, r.Seq)
	}
	return proof.VerifyInclusion(hasher, uint64(p.Seq-1), uint64(p.TreeSize), r.ComputeLeafHash(), toBytes(p.Hashes), root)
}

// VerifyConsistency checks that the tree with root1 (size p.From) is a
// prefix of the tree with root2 (size p.To).
func VerifyConsistency(p ConsistencyProof, root1, root2 []byte) error {
	if p.From < 0 || p.From > p.To {
		return fmt.Errorf("audit: bad consistency proof sizes %d, %d", p.From, p.To)
	}
	return proof.VerifyConsistency(hasher, uint64(p.From), uint64(p.To), toBytes(p.Hashes), root1, root2)
}

func toBytes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i] = h
	}
	return out
}

func toHashes(bs [][]byte) []Hash {
	out := make([]Hash, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}

// hashReader fetches stored hashes: leaf hashes by leaf index and stored
// internal nodes by id. Missing entries are an error.
type hashReader interface {
	leafHashes(ctx context.Context, idx []uint64) (map[uint64][]byte, error)
	nodeHashes(ctx context.Context, ids []compact.NodeID) (map[compact.NodeID][]byte, error)
}

// computeNodes returns the hashes of the given perfect-subtree nodes,
// reading the stored hashes below them in one round of queries.
func computeNodes(ctx context.Context, r hashReader, ids []compact.NodeID) ([][]byte, error) {
	var leafIdx []uint64
	var nodeIDs []compact.NodeID
	seenLeaf := map[uint64]bool{}
	seenNode := map[compact.NodeID]bool{}
	for _, id := range ids {
		base, first, span := tileOf(id)
		for i := uint64(0); i < span; i++ {
			if base == 0 {
				if !seenLeaf[first+i] {
					seenLeaf[first+i] = true
					leafIdx = append(leafIdx, first+i)
				}
			} else {
				n := compact.NewNodeID(base, first+i)
				if !seenNode[n] {
					seenNode[n] = true
					nodeIDs = append(nodeIDs, n)
				}
			}
		}
	}
	leaves, err := r.leafHashes(ctx, leafIdx)
	if err != nil {
		return nil, err
	}
	nodes, err := r.nodeHashes(ctx, nodeIDs)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(ids))
	for k, id := range ids {
		base, first, span := tileOf(id)
		level := make([][]byte, span)
		for i := uint64(0); i < span; i++ {
			var h []byte
			var ok bool
			if base == 0 {
				h, ok = leaves[first+i]
			} else {
				h, ok = nodes[compact.NewNodeID(base, first+i)]
			}
			if !ok {
				return nil, fmt.Errorf("audit: tree node (%d,%d) is missing from the store", base, first+i)
			}
			level[i] = h
		}
		for len(level) > 1 {
			next := level[:len(level)/2]
			for i := range next {
				next[i] = hasher.HashChildren(level[2*i], level[2*i+1])
			}
			level = next
		}
		out[k] = level[0]
	}
	return out, nil
}

// tileOf returns the stored level below id and the range of stored
// entries there that id covers.
func tileOf(id compact.NodeID) (base uint, first, span uint64) {
	base = id.Level - id.Level%tileStride
	shift := id.Level - base
	return base, id.Index << shift, 1 << shift
}

// rangeFromStore rebuilds the compact range [0, size) from stored hashes.
func rangeFromStore(ctx context.Context, r hashReader, size uint64) (*compact.Range, error) {
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := computeNodes(ctx, r, ids)
	if err != nil {
		return nil, err
	}
	return rangeFactory.NewRange(0, size, hashes)
}

// inclusionFromStore builds the inclusion proof for seq in the tree of size.
func inclusionFromStore(ctx context.Context, r hashReader, seq, size int64) (InclusionProof, error) {
	if seq < 1 || seq > size {
		return InclusionProof{}, fmt.Errorf("audit: seq %d is outside the tree of size %d", seq, size)
	}
	nodes, err := proof.Inclusion(uint64(seq-1), uint64(size))
	if err != nil {
		return InclusionProof{}, err
	}
	hs, err := computeNodes(ctx, r, nodes.IDs)
	if err != nil {
		return InclusionProof{}, err
	}
	p, err := nodes.Rehash(hs, hasher.HashChildren)
	if err != nil {
		return InclusionProof{}, err
	}
	return InclusionProof{Seq: seq, TreeSize: size, Hashes: toHashes(p)}, nil
}

// consistencyFromStore builds the consistency proof between two sizes.
func consistencyFromStore(ctx context.Context, r hashReader, from, to int64) (ConsistencyProof, error) {
	if from < 0 || from > to {
		return ConsistencyProof{}, fmt.Errorf("audit: bad consistency sizes %d, %d", from, to)
	}
	nodes, err := proof.Consistency(uint64(from), uint64(to))
	if err != nil {
		return ConsistencyProof{}, err
	}
	hs, err := computeNodes(ctx, r, nodes.IDs)
	if err != nil {
		return ConsistencyProof{}, err
	}
	p, err := nodes.Rehash(hs, hasher.HashChildren)
	if err != nil {
		return ConsistencyProof{}, err
	}
	return ConsistencyProof{From: from, To: to, Hashes: toHashes(p)}, nil
}

// memHashes is an in-memory hashReader (tests, and the verifier's own
// rebuilt tree).
type memHashes struct {
	leaves [][]byte
	nodes  map[compact.NodeID][]byte
}

func newMemHashes() *memHashes { return &memHashes{nodes: map[compact.NodeID][]byte{}} }

// append adds a leaf, recording stored nodes via the visitor of rng.
func (m *memHashes) append(rng *compact.Range, leaf []byte) error {
	m.leaves = append(m.leaves, leaf)
	return rng.Append(leaf, func(id compact.NodeID, h []byte) {
		if storedNode(id) {
			m.nodes[id] = h
		}
	})
}

func (m *memHashes) leafHashes(_ context.Context, idx []uint64) (map[uint64][]byte, error) {
	out := make(map[uint64][]byte, len(idx))
	for _, i := range idx {
		if i < uint64(len(m.leaves)) {
			out[i] = m.leaves[i]
		}
	}
	return out, nil
}

func (m *memHashes) nodeHashes(_ context.Context, ids []compact.NodeID) (map[compact.NodeID][]byte, error) {
	out := make(map[compact.NodeID][]byte, len(ids))
	for _, id := range ids {
		if h, ok := m.nodes[id]; ok {
			out[id] = h
		}
	}
	return out, nil
}
