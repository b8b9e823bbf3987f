package auth

import (
	"testing"

	"github.com/soteai/gateway/assist"
)

func TestPriorityPolicy(t *testing.T) {
	clin := assist.Actor{TokenID: "tok_c", Role: assist.RoleClinician}
	svc := assist.Actor{TokenID: "tok_s", Role: assist.RoleService}
	interp := assist.Actor{TokenID: "tok_i", Role: assist.RoleInterpreter}
	special := assist.Actor{TokenID: "tok_ehr", Role: assist.RoleService}
	refuse := DefaultPriorityPolicy()
	refuse.ByCredential = map[string]assist.Priority{"tok_ehr": assist.PriorityRealtime, "tok_i": assist.PriorityBatch}
	lower := refuse
	lower.Lower = true
	for _, tc := range []struct {
		name   string
		policy PriorityPolicy
		actor  assist.Actor
		req    assist.Priority
		want   assist.Priority
		kind   assist.Kind
	}{
		{"clinician interactive", refuse, clin, assist.PriorityInteractive, assist.PriorityInteractive, ""},
		{"clinician batch", refuse, clin, assist.PriorityBatch, assist.PriorityBatch, ""},
		{"clinician realtime refused", refuse, clin, assist.PriorityRealtime, 0, assist.KindForbidden},
		{"service realtime refused", refuse, svc, assist.PriorityRealtime, 0, assist.KindForbidden},
		{"clinician realtime lowered", lower, clin, assist.PriorityRealtime, assist.PriorityInteractive, ""},
		{"credential raised above its role", refuse, special, assist.PriorityRealtime, assist.PriorityRealtime, ""},
		{"credential lowered below its role", refuse, interp, assist.PriorityInteractive, 0, assist.KindForbidden},
		{"credential lowered, lower mode", lower, interp, assist.PriorityRealtime, assist.PriorityBatch, ""},
		{"unknown role gets interactive", PriorityPolicy{}, clin, assist.PriorityRealtime, 0, assist.KindForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.policy.Decide(tc.actor, tc.req)
			if assist.KindOf(err) != tc.kind && !(tc.kind == "" && err == nil) {
				t.Fatalf("Decide: %v, want kind %q", err, tc.kind)
			}
			if err == nil && got != tc.want {
				t.Fatalf("class %s, want %s", got, tc.want)
			}
		})
	}
}
