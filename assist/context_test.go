package assist

import (
	"context"
	"testing"
)

func TestContextCarriesCallerAndRequest(t *testing.T) {
	ctx := context.Background()
	if _, ok := ActorFrom(ctx); ok || RequestIDFrom(ctx) != "" {
		t.Fatal("an empty context carries a caller")
	}
	a := Actor{TokenID: "tok_1", Role: RoleClinician}
	ctx = WithRequestID(WithActor(ctx, a), "req-1")
	if got, ok := ActorFrom(ctx); !ok || got != a || RequestIDFrom(ctx) != "req-1" {
		t.Fatalf("got %+v %v %q", got, ok, RequestIDFrom(ctx))
	}
}
