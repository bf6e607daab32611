// Package storetest holds the contracts Herald's stores must meet, one per
// domain store interface (auth.KeyStore, campaign.Store, profile.Store,
// suppression.Store, audience.Store, webhook.Store, ratelimit.Store, capping.Store, and delivery.Ledger with its Parking
// and status reads). Each runs against the DynamoDB store on moto
// (internal/dynamo) and against the in-memory fake (internal/memory), so
// the fake the unit tests trust behaves as the real store does; where the
// two disagree, DynamoDB is right and the fake is fixed.
//
// A contract takes a constructor of fresh, empty stores and calls it once
// per case.
package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme  = tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "prod"}
	other = tenant.Tenant{Org: "OTHER@AdobeOrg", Sandbox: "prod"}
	t0    = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
)

// noError is the kind wantKind expects when a call must succeed.
const noError derrors.Kind = -1

// wantKind fails t unless err is of kind want (nil for noError).
func wantKind(t *testing.T, call string, err error, want derrors.Kind) {
	t.Helper()
	switch {
	case want == noError && err != nil:
		t.Errorf("%s = %v, want no error", call, err)
	case want != noError && !derrors.Is(err, want):
		t.Errorf("%s = %v, want %s", call, err, want)
	}
}
