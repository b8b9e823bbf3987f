package httpapi

import "testing"

func TestSafeRequestID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		safe bool
	}{
		{"3f2a9c1e-7b4d-4c8e-9a1f-2b3c4d5e6f70", true}, // UUID
		{"0123456789abcdef", true},
		{"req_01HZX3T9Q.trace-7", true},
		{"131052-308T", false},                  // a valid identity code
		{"abc131052-308Txyz", false},            // embedded
		{"131052A308X", false},                  // a 2000s century sign, any check character
		{"010101-123N-request", false},          // invalid checksum: still the shape of one
		{"matti.meikalainen@example.fi", false}, // not the alphabet
		{"short", false},
		{"", false},
		{"has space in it", false},
		{string(make([]byte, 65)), false},
	} {
		if got := safeRequestID(tc.id); got != tc.safe {
			t.Errorf("safeRequestID(%q) = %v, want %v", tc.id, got, tc.safe)
		}
	}
}
