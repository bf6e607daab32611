package erasure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme  = tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "prod"}
	other = tenant.Tenant{Org: "OTHER@AdobeOrg", Sandbox: "prod"}
)

func TestPseudonymsAreStablePerTenantAndKey(t *testing.T) {
	a := &erasure.Service{Key: erasure.Pseudonymizer("secret-one-of-at-least-32-bytes-long")}
	b := &erasure.Service{Key: erasure.Pseudonymizer("secret-two-of-at-least-32-bytes-long")}
	id := profile.Identity{Namespace: "email", ID: "jane@example.com"}
	p := a.Pseudonym(acme, id)
	switch {
	case p != a.Pseudonym(acme, id):
		t.Errorf("the same identity got two pseudonyms")
	case !strings.HasPrefix(p, "erased-") || len(p) != len("erased-")+22 || strings.Contains(p, "jane"):
		t.Errorf("pseudonym %q: want erased- and 22 base64url characters, nothing of the identity", p)
	case p == a.Pseudonym(other, id):
		t.Errorf("two tenants share a pseudonym")
	case p == b.Pseudonym(acme, id):
		t.Errorf("two keys give the same pseudonym")
	case p == a.Pseudonym(acme, profile.Identity{Namespace: "crmId", ID: "jane@example.com"}):
		t.Errorf("two namespaces give the same pseudonym")
	}
}

func TestMentionsMatchesWholeValuesOnly(t *testing.T) {
	sub := erasure.Subject{Identities: []profile.Identity{{Namespace: "crmId", ID: "42"}},
		Addresses: []erasure.Address{{Channel: "email", Address: "jane@example.com"}}}
	for _, tt := range []struct {
		msg  string
		want bool
	}{
		{`{"userId":"42"}`, true},
		{`{"recipient":{"emails":["x@example.com","Jane@Example.com"]}}`, true},
		{`{"userId":"420","orderId":"A-42"}`, false},
		{`{"n":42}`, false},
		{`not json "42"`, false},
	} {
		if got := erasure.Mentions([]byte(tt.msg), sub); got != tt.want {
			t.Errorf("Mentions(%s) = %t, want %t", tt.msg, got, tt.want)
		}
	}
}

func TestErasureRefusesWhatItCannotDo(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	svc := &erasure.Service{Profiles: st, Store: st}
	if _, err := svc.EraseProfile(ctx, acme, profile.Identity{Namespace: "crmId", ID: "1"}); err == nil {
		t.Errorf("an erasure without a key succeeded; want an error (pseudonyms must be keyed)")
	}
	svc.Key = erasure.Pseudonymizer("secret-one-of-at-least-32-bytes-long")
	for _, req := range []erasure.Request{{}, {Namespace: "crmId"}, {Namespace: "bad ns", ID: "1"}, {Channel: "email"},
		{Channel: "email", Address: "a@b.example", ID: "1"}, {Channel: "push", Address: "tok"}, {Channel: "sms", Address: "0612"}} {
		if _, err := svc.Erase(ctx, acme, req); !derrors.Is(err, derrors.Invalid) {
			t.Errorf("Erase(%+v) = %v, want Invalid", req, err)
		}
	}
	if r, err := svc.Erase(ctx, acme, erasure.Request{Channel: "sms", Address: "+14155550100"}); err != nil || r.Erased[erasure.Profiles] != 0 {
		t.Errorf("erasing an unknown number = %+v, %v; want nothing erased and no error", r, err)
	}
}

func TestStripJobRemovesThePersonByIdentityOrAddress(t *testing.T) {
	sub := erasure.Subject{Identities: []profile.Identity{{Namespace: "crmId", ID: "42"}},
		Addresses: []erasure.Address{{Channel: "email", Address: "jane@example.com"}, {Channel: "sms", Address: "+14155550100"}}}
	job := delivery.Job{Recipients: []delivery.Recipient{
		{Namespace: "crmId", UserID: "42"},
		{Namespace: "crmId", UserID: "43", Email: " Jane@Example.com"},
		{Namespace: "crmId", UserID: "44", Phone: "415-555-0100"},
		{Namespace: "loyaltyId", UserID: "42"},
		{Namespace: "crmId", UserID: "45", Email: "bob@example.com", Phone: "+14155550199"},
	}}
	left, n := erasure.StripJob(job, sub)
	if n != 3 || len(left.Recipients) != 2 || left.Recipients[0].Namespace != "loyaltyId" || left.Recipients[1].UserID != "45" {
		t.Errorf("StripJob = %+v, %d; want loyaltyId/42 and crmId/45 left, 3 removed", left.Recipients, n)
	}
	if len(job.Recipients) != 5 {
		t.Errorf("StripJob changed the job it was given")
	}
}

func TestAnAddressIdentityIsErasedAsAnAddressToo(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	svc := &erasure.Service{Profiles: st, Store: st, Key: erasure.Pseudonymizer("secret-one-of-at-least-32-bytes-long")}
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	if _, _, err := st.AddSuppression(ctx, acme, suppression.Entry{Channel: suppression.Email, Address: "ann@example.com", Reason: suppression.Bounce, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CountSoftBounce(ctx, acme, suppression.Email, "ann@example.com", t0); err != nil {
		t.Fatal(err)
	}
	k := delivery.Key{ExecutionID: "ex-1", Namespace: "email", UserID: "Ann@Example.com", Channel: campaign.Email}
	if _, _, err := st.Claim(ctx, acme, delivery.Entry{Key: k, State: delivery.Claimed, Token: "tok", Tag: delivery.Tag(acme, k), ClaimedAt: t0}); err != nil {
		t.Fatal(err)
	}
	r, err := svc.EraseProfile(ctx, acme, profile.Identity{Namespace: "email", ID: "ann@example.com"})
	if err != nil || r.Kept[erasure.Suppressions] != 1 || r.Erased[erasure.SoftBounces] != 1 || r.Erased[erasure.Profiles] != 0 {
		t.Errorf("EraseProfile(email/ann) = %+v, %v; want the suppression kept and the transient bounces erased, no profile", r, err)
	}
	r, err = svc.Erase(ctx, acme, erasure.Request{Channel: suppression.Email, Address: "Ann@Example.com"})
	if err != nil || r.Pseudonymised[erasure.LedgerEntries] != 1 {
		t.Errorf("Erase(Ann@Example.com) = %+v, %v; want the entry whose userId is the address as written pseudonymised", r, err)
	}
}
