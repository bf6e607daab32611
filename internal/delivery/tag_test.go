package delivery_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/tenant"
)

// TestTagsAreStable holds Tag and AddressDigest to the digests of their
// first definition: SES events and ledger items carry them, so a deploy
// must not change them.
func TestTagsAreStable(t *testing.T) {
	digest := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:16])
	}
	long := strings.Repeat("u", 300) // past the stack buffer
	for _, k := range []delivery.Key{
		{ExecutionID: "ex-1", Namespace: "crmId", UserID: "42", Channel: campaign.Email},
		{ExecutionID: "ex-2", Namespace: "email", UserID: long, Channel: campaign.Push, Device: "d1"},
	} {
		ten := tenant.Tenant{Org: "org", Sandbox: "prod"}
		want := digest(ten.Key() + "\x00" + k.ExecutionID + "\x00" + k.Namespace + "\x00" + k.UserID + "\x00" + string(k.Channel) + "\x00" + k.Device)
		if got := delivery.Tag(ten, k); got != want {
			t.Errorf("Tag(%+v) = %s, want %s", k, got, want)
		}
	}
	for _, addr := range []string{"a@example.com", long + "@example.com"} {
		if got, want := delivery.AddressDigest(campaign.Email, addr), digest("email\x00"+addr); got != want {
			t.Errorf("AddressDigest(%s) = %s, want %s", addr, got, want)
		}
	}
}
