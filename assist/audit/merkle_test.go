package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/transparency-dev/merkle/proof"
)

// memTree builds n leaves in memory the way the writer does.
func memTree(t *testing.T, n int) (*memHashes, [][]byte) {
	t.Helper()
	m := newMemHashes()
	rng := rangeFactory.NewEmptyRange(0)
	var leaves [][]byte
	for i := 0; i < n; i++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		leaf := hasher.HashLeaf(b[:])
		leaves = append(leaves, leaf)
		if err := m.append(rng, leaf); err != nil {
			t.Fatal(err)
		}
	}
	return m, leaves
}

func TestStoredNodesAreSparse(t *testing.T) {
	m, _ := memTree(t, 4096)
	// Levels 4, 8 and 12: 256 + 16 + 1 nodes, about one per 15 leaves.
	if got := len(m.nodes); got != 273 {
		t.Errorf("stored %d nodes for 4096 leaves, want 273", got)
	}
}

func TestRangeFromStoreMatchesReference(t *testing.T) {
	m, leaves := memTree(t, 300)
	for size := 0; size <= len(leaves); size++ {
		rng, err := rangeFromStore(context.Background(), m, uint64(size))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		root, err := rootOf(rng)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveRoot(leaves[:size]); !bytes.Equal(root, want) {
			t.Fatalf("size %d: root %x, want %x", size, root, want)
		}
	}
}

func TestInclusionProofs(t *testing.T) {
	ctx := context.Background()
	m, leaves := memTree(t, 130)
	for size := 1; size <= len(leaves); size++ {
		root := naiveRoot(leaves[:size])
		for seq := 1; seq <= size; seq++ {
			p, err := inclusionFromStore(ctx, m, int64(seq), int64(size))
			if err != nil {
				t.Fatalf("seq %d size %d: %v", seq, size, err)
			}
			if err := proof.VerifyInclusion(hasher, uint64(seq-1), uint64(size), leaves[seq-1], toBytes(p.Hashes), root); err != nil {
				t.Fatalf("seq %d size %d: %v", seq, size, err)
			}
		}
	}
	if _, err := inclusionFromStore(ctx, m, 0, 5); err == nil {
		t.Error("seq 0 accepted")
	}
	if _, err := inclusionFromStore(ctx, m, 6, 5); err == nil {
		t.Error("seq beyond the tree accepted")
	}
}

func TestConsistencyProofs(t *testing.T) {
	ctx := context.Background()
	m, leaves := memTree(t, 70)
	for to := 0; to <= len(leaves); to++ {
		root2 := naiveRoot(leaves[:to])
		for from := 0; from <= to; from++ {
			p, err := consistencyFromStore(ctx, m, int64(from), int64(to))
			if err != nil {
				t.Fatalf("%d..%d: %v", from, to, err)
			}
			if err := VerifyConsistency(p, naiveRoot(leaves[:from]), root2); err != nil {
				t.Fatalf("%d..%d: %v", from, to, err)
			}
		}
	}
	p, _ := consistencyFromStore(ctx, m, 13, 70)
	bad := naiveRoot(leaves[1:14])
	if err := VerifyConsistency(p, bad, naiveRoot(leaves)); err == nil {
		t.Error("a consistency proof verified against the wrong old root")
	}
}

func TestVerifyInclusionOfRecord(t *testing.T) {
	recs := chain(21)
	m := newMemHashes()
	rng := rangeFactory.NewEmptyRange(0)
	for i := range recs {
		if err := m.append(rng, recs[i].LeafHash); err != nil {
			t.Fatal(err)
		}
	}
	root := rootAt(recs, 21)
	p, err := inclusionFromStore(context.Background(), m, 17, 21)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyInclusion(&recs[16], p, root); err != nil {
		t.Fatalf("valid proof rejected: %v", err)
	}
	changed := cloneRecord(&recs[16])
	changed.OutputHash = bytes.Repeat([]byte{0}, sha256.Size)
	if err := VerifyInclusion(&changed, p, root); err == nil {
		t.Error("proof verified for a modified record")
	}
	if err := VerifyInclusion(&recs[15], p, root); err == nil {
		t.Error("proof verified for another record")
	}
}

func TestMissingStoredNodeIsAnError(t *testing.T) {
	m, _ := memTree(t, 64)
	for id := range m.nodes {
		delete(m.nodes, id)
		break
	}
	ok := 0
	for seq := int64(1); seq <= 64; seq++ {
		if _, err := inclusionFromStore(context.Background(), m, seq, 64); err == nil {
			ok++
		}
	}
	if ok == 64 {
		t.Error("every proof succeeded without a stored node")
	}
}
