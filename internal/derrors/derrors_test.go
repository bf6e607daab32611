package derrors_test

import (
	"fmt"
	"testing"

	"github.com/heraldhq/herald/internal/derrors"
)

func TestEveryKindHasALogName(t *testing.T) {
	seen := map[string]derrors.Kind{}
	for k := derrors.Internal; k <= derrors.TooManyRequests; k++ {
		name := k.String()
		if name == "" || name == fmt.Sprintf("kind_%d", k) {
			t.Errorf("Kind(%d) has no name", k)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("Kind(%d) and Kind(%d) are both %q", other, k, name)
		}
		seen[name] = k
	}
	if got := derrors.Kind(99).String(); got != "kind_99" {
		t.Errorf("Kind(99).String() = %q, want kind_99", got)
	}
}

func TestLogCodeIsTheKindNotTheDetail(t *testing.T) {
	err := derrors.New(derrors.NotFound, "no profile for %s", "jane@example.com")
	if got := err.LogCode(); got != "not_found" {
		t.Errorf("LogCode() = %q, want not_found", got)
	}
}
