package ollama

import (
	"io"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models"
)

// A non-streaming answer is read into memory only up to the limit.
func TestDecodeBounded(t *testing.T) {
	const answer = `{"response":"abc","done":true}`
	for _, tc := range []struct {
		name  string
		limit int64
		kind  assist.Kind
	}{
		{"within the limit", int64(len(answer)), ""},
		{"over the limit", int64(len(answer)) - 1, assist.KindUpstream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &models.Response{Status: 200, First: []byte(answer[:5]), Body: io.NopCloser(strings.NewReader(answer[5:]))}
			var out GenerateResponse
			err := decode(resp, &out, tc.limit)
			if assist.KindOf(err) != tc.kind || (err == nil && out.Response != "abc") {
				t.Fatalf("decode: %v %+v, want kind %q", err, out, tc.kind)
			}
		})
	}
}
