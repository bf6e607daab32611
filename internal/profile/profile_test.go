package profile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme   = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	globex = tenant.Tenant{Org: "globex", Sandbox: "prod"}
)

func TestUpsertKeepsCreationTime(t *testing.T) {
	store := memory.New()
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc := &profile.Service{Store: store, Now: func() time.Time { return clock }}
	id := profile.Identity{Namespace: "crmId", ID: "42"}
	first := clock

	if _, err := svc.Upsert(context.Background(), acme, id, profile.Input{Attributes: map[string]any{"tier": "gold"}}); err != nil {
		t.Fatalf("first Upsert: %v", err)
	}
	clock = clock.Add(time.Hour)
	got, err := svc.Upsert(context.Background(), acme, id, profile.Input{
		Attributes: map[string]any{"tier": "platinum"}, Identities: map[string]string{"email": "jane@example.com"}})
	if err != nil {
		t.Fatalf("second Upsert: %v", err)
	}
	want := profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"tier": "platinum"},
		Identities: map[string]string{"email": "jane@example.com"}, CreatedAt: first, UpdatedAt: clock}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Upsert() mismatch (-want +got):\n%s", diff)
	}
	stored, err := svc.Get(context.Background(), acme, id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("Get() mismatch (-want +got):\n%s", diff)
	}
	if _, err := svc.Get(context.Background(), globex, id); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Get(other tenant) error = %v, want NotFound", err)
	}
}

func TestDevicePlatformsAreStoredAsSNSSpellsThem(t *testing.T) {
	ctx := context.Background()
	id := profile.Identity{Namespace: "crmId", ID: "42"}
	in := profile.Input{Devices: []profile.DeviceInput{
		{AppID: "shop-ios", Platform: "apnsSandbox", Token: "a"},
		{AppID: "shop-ios", Platform: "ios", Token: "b"},
		{AppID: "shop-android", Platform: "fcm", Token: "c"},
		{AppID: "shop-android", Platform: "GCM", Token: "d"},
	}}
	svc := &profile.Service{Store: memory.New()}
	if _, err := svc.Upsert(ctx, acme, id, in); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	p, err := svc.Store.Get(ctx, acme, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range p.Devices {
		got = append(got, d.Platform)
	}
	if diff := cmp.Diff([]string{"APNS_SANDBOX", "APNS", "GCM", "GCM"}, got); diff != "" {
		t.Errorf("stored platforms (-want +got):\n%s", diff)
	}
}

func TestUpsertAcceptsAPhoneIdentityAsAJOWritesIt(t *testing.T) {
	// Dispatch reads it with the SMS configuration's default region.
	id := profile.Identity{Namespace: "phone", ID: "111-111-1111"}
	if _, err := (&profile.Service{Store: memory.New()}).Upsert(context.Background(), acme, id, profile.Input{}); err != nil {
		t.Fatalf("Upsert(%v) = %v, want it stored", id, err)
	}
}

func TestUpsertWithoutAttributesStoresAnEmptyObject(t *testing.T) {
	svc := &profile.Service{Store: memory.New()}
	got, err := svc.Upsert(context.Background(), acme, profile.Identity{Namespace: "email", ID: "jane@example.com"}, profile.Input{})
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if got.Attributes == nil {
		t.Error("Upsert(no attributes).Attributes = nil, want an empty map")
	}
}

func TestUpsertValidation(t *testing.T) {
	many := map[string]string{}
	for _, ns := range strings.Fields("a b c d e f g h i j k l m n o p q r s t u") {
		many[ns] = "x"
	}
	tests := []struct {
		name   string
		id     profile.Identity
		in     profile.Input
		fields []string
	}{
		{"a bad namespace is named", profile.Identity{Namespace: "crm id", ID: "42"}, profile.Input{}, []string{"namespace"}},
		{"an empty id is named", profile.Identity{Namespace: "crmId"}, profile.Input{}, []string{"id"}},
		{"an id with a control character is named", profile.Identity{Namespace: "crmId", ID: "4\x002"}, profile.Input{}, []string{"id"}},
		{"an id in the email namespace must be an address", profile.Identity{Namespace: "email", ID: "jane"}, profile.Input{}, []string{"id"}},
		{"an id in the phone namespace must be shaped as a number", profile.Identity{Namespace: "phone", ID: "555-CALL"}, profile.Input{}, []string{"id"}},
		{"attributes over 100 KiB are refused", profile.Identity{Namespace: "crmId", ID: "42"},
			profile.Input{Attributes: map[string]any{"blob": strings.Repeat("x", profile.MaxAttributesSize)}}, []string{"attributes"}},
		{"more than 20 identities are refused", profile.Identity{Namespace: "crmId", ID: "42"},
			profile.Input{Identities: many}, []string{"identities"}},
		{"a platform SNS has no application for is named", profile.Identity{Namespace: "crmId", ID: "42"},
			profile.Input{Devices: []profile.DeviceInput{{AppID: "shop", Platform: "WNS", Token: "t"}}}, []string{"devices[0].platform"}},
		{"a bad extra identity is named", profile.Identity{Namespace: "crmId", ID: "42"},
			profile.Input{Identities: map[string]string{"email": "not-an-address"}}, []string{"identities.email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New()
			_, err := (&profile.Service{Store: store}).Upsert(context.Background(), acme, tt.id, tt.in)
			var de *derrors.Error
			if !errors.As(err, &de) || de.Kind != derrors.Invalid {
				t.Fatalf("Upsert() error = %v, want Invalid", err)
			}
			var got []string
			for _, f := range de.Fields {
				got = append(got, f.Field)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if _, err := store.Get(context.Background(), acme, tt.id); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("an invalid profile was stored")
			}
		})
	}
}

func TestEmail(t *testing.T) {
	tests := []struct {
		name string
		p    profile.Profile
		want string
	}{
		{"the primary email identity comes first",
			profile.Profile{Namespace: "email", ID: "id@example.com", Identities: map[string]string{"email": "other@example.com"},
				Attributes: map[string]any{"email": "attr@example.com"}}, "id@example.com"},
		{"then an email identity",
			profile.Profile{Namespace: "crmId", ID: "42", Identities: map[string]string{"email": "ident@example.com"},
				Attributes: map[string]any{"email": "attr@example.com"}}, "ident@example.com"},
		{"then an email attribute",
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"email": "attr@example.com",
				"personalEmail": map[string]any{"address": "xdm@example.com"}}}, "attr@example.com"},
		{"then the XDM personalEmail.address",
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"personalEmail": map[string]any{"address": "xdm@example.com"}}},
			"xdm@example.com"},
		{"a non-string email attribute is ignored",
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"email": 7}}, ""},
		{"a profile without an address has none", profile.Profile{Namespace: "crmId", ID: "42"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Email(); got != tt.want {
				t.Errorf("Email() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidNamespace(t *testing.T) {
	for in, want := range map[string]bool{
		"email": true, "crmId": true, "ECID_2-b": true, strings.Repeat("n", 64): true,
		"": false, strings.Repeat("n", 65): false, "crm id": false, "crm#id": false, "émail": false,
	} {
		if got := profile.ValidNamespace(in); got != want {
			t.Errorf("ValidNamespace(%q) = %t, want %t", in, got, want)
		}
	}
}
