package assist

import (
	"context"
	"testing"
	"time"
)

func TestContextError(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), -time.Second)
	defer cancel2()
	for name, tc := range map[string]struct {
		ctx  context.Context
		want Kind
	}{
		"client went away":     {canceled, KindCanceled},
		"gateway deadline hit": {expired, KindTimeout},
	} {
		t.Run(name, func(t *testing.T) {
			if got := KindOf(ContextError("op", tc.ctx)); got != tc.want {
				t.Fatalf("kind %s, want %s", got, tc.want)
			}
		})
	}
}
