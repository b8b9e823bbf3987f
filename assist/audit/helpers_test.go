package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
)

// Secrets that must never appear in logs or error texts. They are used as
// patient identifiers and prompt text throughout the tests.
const (
	testHETU   = "131052-308T"
	testHETU2  = "010594Y9032"
	testPrompt = "PROMPT-TEXT: potilaalla on rintakipua"
)

// captured collects every log line and error text the tests produce; the
// scan in TestMain fails the run if any contains a secret.
var captured struct {
	sync.Mutex
	bytes.Buffer
}

type captureWriter struct{}

func (captureWriter) Write(p []byte) (int, error) {
	captured.Lock()
	defer captured.Unlock()
	return captured.Write(p)
}

// testLogger logs into the captured buffer.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Writer(captureWriter{}), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// noteErr records an error's full text (including causes) for the scan.
func noteErr(err error) {
	if err != nil {
		fmt.Fprintf(captureWriter{}, "error: %v | message: %s\n", err, assist.MessageOf(err))
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	captured.Lock()
	text := captured.String()
	captured.Unlock()
	if hs := FindHETU(text); len(hs) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: logs or errors contain %d personal identity code(s)\n", len(hs))
		code = 1
	}
	if strings.Contains(text, "PROMPT-TEXT") || strings.Contains(text, "rintakipua") {
		fmt.Fprintln(os.Stderr, "FAIL: logs or errors contain prompt text")
		code = 1
	}
	os.Exit(code)
}

// testKeys are fixed so golden files stay stable.
func testCheckpointKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
}

// otherCheckpointKey is audittest.WrongKey, which in-package tests cannot import.
func otherCheckpointKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
}

var testHMACKey = bytes.Repeat([]byte{3}, 32)

var baseTime = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// sampleRecord returns a record with every field set.
func sampleRecord(seq int64) Record {
	in := sha256.Sum256([]byte(fmt.Sprintf("input %d", seq)))
	out := sha256.Sum256([]byte(fmt.Sprintf("output %d", seq)))
	r := Record{
		Seq: seq, Time: baseTime.Add(time.Duration(seq) * time.Millisecond), Kind: KindAIOutput,
		RequestID: fmt.Sprintf("req-%d", seq), ActorTokenID: "tok-1", ActorName: "ward 3 EHR", ActorRole: assist.RoleClinician,
		ActorOrg: "Pirkanmaa", Task: assist.TaskSummary, Patient: Pseudonymise(testHMACKey, testHETU),
		Model: "llama3.2:3b", ModelDigest: "sha256:abc", Host: "gpu-1", TemplateID: "visit_summary", TemplateVersion: "3",
		InputHash: in[:], OutputHash: out[:], Sources: []string{"kb:a#1", "kb:b#7"}, LatencyMicros: 1234,
		InputTokens: 100, OutputTokens: 50, Outcome: OutcomeOK, RelatesTo: 0,
		Attrs: map[string]string{"route": "/api/chat", "kb_version": "2025-03"},
	}
	if seq%3 == 0 {
		r.Kind, r.RelatesTo, r.Outcome, r.Attrs = KindReview, seq-1, OutcomeAccepted, nil
	}
	return r
}

// chain builds n chained records with leaf hashes.
func chain(n int) []Record {
	recs := make([]Record, n)
	prev := zeroHash
	for i := range recs {
		recs[i] = sampleRecord(int64(i + 1))
		recs[i].PrevHash = prev
		recs[i].LeafHash = recs[i].ComputeLeafHash()
		prev = recs[i].LeafHash
	}
	return recs
}

// rootAt is the RFC 6962 root of the first size records (reference
// implementation, independent of compact ranges).
func rootAt(recs []Record, size int) Hash {
	leaves := make([][]byte, size)
	for i := range leaves {
		leaves[i] = recs[i].LeafHash
	}
	return naiveRoot(leaves)
}

// naiveRoot is RFC 6962 section 2.1 MTH, written from the definition.
func naiveRoot(leaves [][]byte) []byte {
	switch n := len(leaves); n {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		return leaves[0]
	default:
		k := 1
		for k*2 < n {
			k *= 2
		}
		h := sha256.New()
		h.Write([]byte{1})
		h.Write(naiveRoot(leaves[:k]))
		h.Write(naiveRoot(leaves[k:]))
		return h.Sum(nil)
	}
}

// memSource is an in-memory Source.
type memSource struct {
	recs []Record
	cps  []Checkpoint
}

func (m *memSource) Records(_ context.Context, fn func(*Record) error) error {
	for i := range m.recs {
		r := m.recs[i]
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

func (m *memSource) Checkpoints(context.Context) ([]Checkpoint, error) { return m.cps, nil }

// signAt signs checkpoints of recs at the given sizes.
func signAt(recs []Record, sizes ...int) []Checkpoint {
	var out []Checkpoint
	for _, s := range sizes {
		out = append(out, SignCheckpoint(testCheckpointKey(), DefaultOrigin, int64(s), rootAt(recs, s), baseTime.Add(time.Hour)))
	}
	return out
}

// findingsOf lists findings as "kind@seq" (or "kind#size") for comparison.
func findingsOf(rep *Report) []string {
	var out []string
	for _, f := range rep.Findings {
		switch {
		case f.Seq != 0 && f.EndSeq != 0:
			out = append(out, fmt.Sprintf("%s@%d..%d", f.Kind, f.Seq, f.EndSeq))
		case f.Seq != 0:
			out = append(out, fmt.Sprintf("%s@%d", f.Kind, f.Seq))
		default:
			out = append(out, fmt.Sprintf("%s#%d", f.Kind, f.CheckpointSize))
		}
	}
	return out
}
