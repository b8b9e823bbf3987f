package audit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/soteai/gateway/assist/golden"
)

// TestEncodeGolden freezes the canonical encoding: changing it would make
// every stored leaf hash unverifiable. Run with -update only for a new
// format version.
func TestEncodeGolden(t *testing.T) {
	r := sampleRecord(43)
	r.PrevHash = bytes.Repeat([]byte{0xab}, 32)
	r.ContentStored = true
	got := hex.EncodeToString(r.Encode()) + "\n" + r.ComputeLeafHash().String() + "\n"
	goldenfile.Check(t, filepath.Join("testdata", "record_v1.golden"), []byte(got))
}

func TestLeafHashIsRFC6962(t *testing.T) {
	r := sampleRecord(1)
	r.PrevHash = zeroHash
	if !bytes.Equal(r.ComputeLeafHash(), hasher.HashLeaf(r.Encode())) {
		t.Fatal("leaf hash is not SHA-256(0x00 || encoding)")
	}
}

func TestEncodeCoversEveryField(t *testing.T) {
	base := sampleRecord(5)
	base.PrevHash = zeroHash
	h0 := base.ComputeLeafHash()
	mutations := map[string]func(r *Record){
		"seq":              func(r *Record) { r.Seq++ },
		"time":             func(r *Record) { r.Time = r.Time.Add(time.Microsecond) },
		"kind":             func(r *Record) { r.Kind = KindStreamStart },
		"request_id":       func(r *Record) { r.RequestID += "x" },
		"actor_token_id":   func(r *Record) { r.ActorTokenID += "x" },
		"actor_name":       func(r *Record) { r.ActorName += "x" },
		"actor_role":       func(r *Record) { r.ActorRole = "admin" },
		"actor_org":        func(r *Record) { r.ActorOrg += "x" },
		"task":             func(r *Record) { r.Task = "chat" },
		"patient":          func(r *Record) { r.Patient = Pseudonymise(testHMACKey, testHETU2) },
		"model":            func(r *Record) { r.Model += "x" },
		"model_digest":     func(r *Record) { r.ModelDigest += "x" },
		"host":             func(r *Record) { r.Host += "x" },
		"template_id":      func(r *Record) { r.TemplateID += "x" },
		"template_version": func(r *Record) { r.TemplateVersion += "x" },
		"input_sha256":     func(r *Record) { r.InputHash = bytes.Repeat([]byte{1}, 32) },
		"output_sha256":    func(r *Record) { r.OutputHash = bytes.Repeat([]byte{1}, 32) },
		"sources order":    func(r *Record) { r.Sources = []string{r.Sources[1], r.Sources[0]} },
		"sources split":    func(r *Record) { r.Sources = []string{r.Sources[0] + r.Sources[1]} },
		"latency":          func(r *Record) { r.LatencyMicros++ },
		"input_tokens":     func(r *Record) { r.InputTokens++ },
		"output_tokens":    func(r *Record) { r.OutputTokens++ },
		"outcome":          func(r *Record) { r.Outcome = OutcomeError },
		"error_kind":       func(r *Record) { r.ErrorKind = "upstream" },
		"relates_to":       func(r *Record) { r.RelatesTo = 3 },
		"attrs value":      func(r *Record) { r.Attrs = map[string]string{"route": "/api/chat", "kb_version": "2025-04"} },
		"attrs key":        func(r *Record) { r.Attrs = map[string]string{"route": "/api/chat", "kb_versio": "n2025-03"} },
		"content_stored":   func(r *Record) { r.ContentStored = true },
		"prev_hash":        func(r *Record) { r.PrevHash = bytes.Repeat([]byte{2}, 32) },
	}
	for name, mut := range mutations {
		t.Run(name, func(t *testing.T) {
			r := cloneRecord(&base)
			mut(&r)
			if bytes.Equal(r.ComputeLeafHash(), h0) {
				t.Errorf("changing %s does not change the leaf hash", name)
			}
		})
	}
	t.Run("attrs order does not matter", func(t *testing.T) {
		r := cloneRecord(&base)
		r.Attrs = map[string]string{"kb_version": "2025-03", "route": "/api/chat"}
		if !bytes.Equal(r.ComputeLeafHash(), h0) {
			t.Error("attribute order changed the hash")
		}
	})
	t.Run("leaf hash itself is not covered", func(t *testing.T) {
		r := cloneRecord(&base)
		r.LeafHash = bytes.Repeat([]byte{9}, 32)
		if !bytes.Equal(r.ComputeLeafHash(), h0) {
			t.Error("leaf hash covers itself")
		}
	})
}

func TestRecordJSONRoundTrip(t *testing.T) {
	r := chain(3)[2]
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"leaf_hash":"`+r.LeafHash.String()+`"`) {
		t.Errorf("hashes are not hex in JSON: %s", b)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.ComputeLeafHash(), r.LeafHash) {
		t.Error("a JSON round trip changes the leaf hash")
	}
}
