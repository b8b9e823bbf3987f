package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"reflect"
	"testing"
	"time"
)

func TestCheckpointSignature(t *testing.T) {
	key := testCheckpointKey()
	pub := key.Public().(ed25519.PublicKey)
	cp := SignCheckpoint(key, "", 10, bytes.Repeat([]byte{1}, 32), baseTime)
	if cp.Origin != DefaultOrigin || cp.KeyID != KeyID(pub) {
		t.Fatalf("checkpoint fields: %+v", cp)
	}
	if err := cp.VerifySignature(pub); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(c *Checkpoint){
		"size":   func(c *Checkpoint) { c.Size++ },
		"root":   func(c *Checkpoint) { c.Root = bytes.Repeat([]byte{2}, 32) },
		"time":   func(c *Checkpoint) { c.Time = c.Time.Add(time.Microsecond) },
		"origin": func(c *Checkpoint) { c.Origin = "other" },
	} {
		t.Run(name, func(t *testing.T) {
			c := cp
			mut(&c)
			if c.VerifySignature(pub) == nil {
				t.Errorf("signature still verifies after changing %s", name)
			}
		})
	}
	if cp.VerifySignature(otherCheckpointKey().Public().(ed25519.PublicKey)) == nil {
		t.Error("verifies with another key")
	}
}

func TestKeysRoundTrip(t *testing.T) {
	key := testCheckpointKey()
	back, err := ParsePrivateKey(MarshalPrivateKey(key))
	if err != nil || !bytes.Equal(back, key) {
		t.Fatalf("private key PEM round trip: %v", err)
	}
	pub := key.Public().(ed25519.PublicKey)
	bp, err := ParsePublicKey(MarshalPublicKey(pub))
	if err != nil || !bytes.Equal(bp, pub) {
		t.Fatalf("public key PEM round trip: %v", err)
	}
	if k, err := ParsePrivateKey([]byte("0707070707070707070707070707070707070707070707070707070707070707\n")); err != nil || !bytes.Equal(k, key) {
		t.Fatalf("hex seed: %v", err)
	}
	if _, err := ParseSymmetricKey([]byte("c2hvcnQ=")); err == nil {
		t.Error("a short symmetric key was accepted")
	}
}

func TestContentSealing(t *testing.T) {
	s, err := newSealer(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte(testPrompt)
	sum, _ := contentHash(pt, nil)
	ct, err := s.seal("input", pt, sum)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, pt) {
		t.Fatal("ciphertext contains the plaintext")
	}
	got, err := s.open("input", ct, sum)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open: %v", err)
	}
	if _, err := s.open("output", ct, sum); err == nil {
		t.Error("input ciphertext opened as output")
	}
	other, _ := contentHash([]byte("other"), nil)
	if _, err := s.open("input", ct, other); err == nil {
		t.Error("ciphertext opened against another record's hash")
	}
}

// TestVerifyFindings tampers with an in-memory log and checks that Verify
// names exactly what was done.
func TestVerifyFindings(t *testing.T) {
	const n = 50
	tests := []struct {
		name   string
		tamper func(recs []Record, cps []Checkpoint) ([]Record, []Checkpoint)
		want   []string
	}{
		{"intact", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) { return r, c }, nil},
		{"output hash byte changed", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[16].OutputHash = append(Hash(nil), r[16].OutputHash...)
			r[16].OutputHash[0] ^= 1
			return r, c
		}, []string{"modified@17"}},
		{"row deleted", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			return append(r[:22:22], r[23:]...), c
		}, []string{"missing@23", "unverifiable#30", "unverifiable#50"}},
		{"range deleted", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			return append(r[:34:34], r[37:]...), c
		}, []string{"missing@35..37", "unverifiable#50"}},
		{"rows swapped (seq kept)", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[29], r[30] = r[30], r[29]
			r[29].Seq, r[30].Seq = 30, 31
			return r, c
		}, []string{"reordered@30", "root_mismatch@11..30", "reordered@31", "root_mismatch@11..50"}},
		{"lines out of order", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[29], r[30] = r[30], r[29]
			return r, c
		}, []string{"reordered@30", "unverifiable#30", "unverifiable#50"}},
		{"tail truncated", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			return r[:45], c
		}, []string{"truncated@46..50"}},
		{"duplicate", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			return append(r[:41:41], r[40:]...), c
		}, []string{"duplicate@41"}},
		{"checkpoint re-signed with another key", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			c[2] = SignCheckpoint(otherCheckpointKey(), DefaultOrigin, c[2].Size, c[2].Root, c[2].Time)
			return r, c
		}, []string{"forged_checkpoint#50"}},
		{"checkpoint root changed", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			c[1].Root = bytes.Repeat([]byte{1}, 32)
			return r, c
		}, []string{"forged_checkpoint#30"}},
		{"record rewritten with recomputed hash", func(r []Record, c []Checkpoint) ([]Record, []Checkpoint) {
			r[4].Model = "other-model"
			r[4].LeafHash = r[4].ComputeLeafHash()
			return r, c
		}, []string{"chain@6", "root_mismatch@1..10", "root_mismatch@1..30", "root_mismatch@1..50"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := chain(n)
			cps := signAt(recs, 10, 30, 50)
			recs, cps = tt.tamper(recs, cps)
			rep, err := Verify(context.Background(), &memSource{recs: recs, cps: cps},
				VerifyOptions{PublicKey: testCheckpointKey().Public().(ed25519.PublicKey)})
			if err != nil {
				t.Fatal(err)
			}
			if got := findingsOf(rep); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings = %q, want %q", got, tt.want)
				for _, f := range rep.Findings {
					t.Log(f)
				}
			}
			if (tt.want == nil) != rep.OK() {
				t.Errorf("OK() = %v", rep.OK())
			}
			switch tt.name {
			case "intact":
				if rep.VerifiedSize != n || rep.MatchedCheckpoint != n {
					t.Errorf("verified %d, matched %d", rep.VerifiedSize, rep.MatchedCheckpoint)
				}
			case "output hash byte changed":
				if rep.VerifiedSize != 16 || rep.MatchedCheckpoint != n {
					t.Errorf("verified %d, matched %d; want 16, %d", rep.VerifiedSize, rep.MatchedCheckpoint, n)
				}
			}
		})
	}
}

func TestVerifyExtraCheckpointCatchesDeletedCheckpoints(t *testing.T) {
	recs := chain(30)
	kept := signAt(recs, 10)
	witness := signAt(recs, 30)
	rep, err := Verify(context.Background(), &memSource{recs: recs[:20], cps: kept},
		VerifyOptions{PublicKey: testCheckpointKey().Public().(ed25519.PublicKey), Extra: witness})
	if err != nil {
		t.Fatal(err)
	}
	if got := findingsOf(rep); !reflect.DeepEqual(got, []string{"truncated@21..30"}) {
		t.Errorf("findings = %q", got)
	}
}
