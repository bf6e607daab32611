package profile_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

type pkey struct {
	t  tenant.Tenant
	id profile.Identity
}

// fakeStore keeps profiles by primary identity and finds them by any of
// their identities, as the Store contract asks. fail makes the named
// method return its error; calls records the methods called.
type fakeStore struct {
	profiles map[pkey]profile.Profile
	fail     map[string]error
	calls    []string
	// batchGot holds the identities each BatchGet was asked for.
	batchGot [][]profile.Identity
}

var _ profile.Store = (*fakeStore)(nil)

func newFakeStore(ps ...profile.Profile) *fakeStore {
	s := &fakeStore{profiles: map[pkey]profile.Profile{}, fail: map[string]error{}}
	for _, p := range ps {
		s.profiles[pkey{acme, p.Identity()}] = p
	}
	return s
}

// find returns the profile that has identity id.
func (s *fakeStore) find(t tenant.Tenant, id profile.Identity) (profile.Profile, bool) {
	for k, p := range s.profiles {
		if k.t == t && slices.Contains(p.AllIdentities(), id) {
			return clone(p), true
		}
	}
	return profile.Profile{}, false
}

// clone copies what a real store would decode afresh on every read.
func clone(p profile.Profile) profile.Profile {
	p.Attributes = maps.Clone(p.Attributes)
	p.Identities = maps.Clone(p.Identities)
	p.Consent = maps.Clone(p.Consent)
	p.Devices = slices.Clone(p.Devices)
	return p
}

func (s *fakeStore) write(t tenant.Tenant, p profile.Profile) error {
	for _, id := range p.AllIdentities() {
		if other, ok := s.find(t, id); ok && other.Identity() != p.Identity() {
			return derrors.New(derrors.Conflict, "identity %s/%s belongs to another profile", id.Namespace, id.ID)
		}
	}
	s.profiles[pkey{t, p.Identity()}] = clone(p)
	return nil
}

func (s *fakeStore) called(method string) error {
	s.calls = append(s.calls, method)
	return s.fail[method]
}

func (s *fakeStore) Put(_ context.Context, t tenant.Tenant, p profile.Profile) error {
	if err := s.called("Put"); err != nil {
		return err
	}
	return s.write(t, p)
}

func (s *fakeStore) Get(_ context.Context, t tenant.Tenant, id profile.Identity) (profile.Profile, error) {
	if err := s.called("Get"); err != nil {
		return profile.Profile{}, err
	}
	p, ok := s.find(t, id)
	if !ok {
		return profile.Profile{}, derrors.New(derrors.NotFound, "no profile")
	}
	return p, nil
}

func (s *fakeStore) BatchGet(_ context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	s.batchGot = append(s.batchGot, ids)
	if err := s.called("BatchGet"); err != nil {
		return nil, err
	}
	out := map[profile.Identity]profile.Profile{}
	for _, id := range ids {
		if p, ok := s.find(t, id); ok {
			out[id] = p
		}
	}
	return out, nil
}

func (s *fakeStore) CreateIfAbsent(_ context.Context, t tenant.Tenant, p profile.Profile) error {
	if err := s.called("CreateIfAbsent"); err != nil {
		return err
	}
	if _, ok := s.find(t, p.Identity()); ok {
		return nil
	}
	return s.write(t, p)
}

func (s *fakeStore) Update(_ context.Context, t tenant.Tenant, id profile.Identity, fn func(*profile.Profile) error) (profile.Profile, error) {
	if err := s.called("Update"); err != nil {
		return profile.Profile{}, err
	}
	p, ok := s.find(t, id)
	if !ok {
		return profile.Profile{}, derrors.New(derrors.NotFound, "no profile")
	}
	if err := fn(&p); err != nil {
		return profile.Profile{}, err
	}
	if err := s.write(t, p); err != nil {
		return profile.Profile{}, err
	}
	return p, nil
}

func (s *fakeStore) Delete(_ context.Context, t tenant.Tenant, id profile.Identity) error {
	if err := s.called("Delete"); err != nil {
		return err
	}
	p, ok := s.find(t, id)
	if !ok {
		return derrors.New(derrors.NotFound, "no profile")
	}
	delete(s.profiles, pkey{t, p.Identity()})
	return nil
}

func (s *fakeStore) PutBatch(_ context.Context, t tenant.Tenant, ps []profile.Profile) []error {
	errs := make([]error, len(ps))
	if err := s.called("PutBatch"); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	for i, p := range ps {
		errs[i] = s.write(t, p)
	}
	return errs
}

// stored returns the profile stored under primary identity id.
func (s *fakeStore) stored(t *testing.T, id profile.Identity) profile.Profile {
	t.Helper()
	p, ok := s.profiles[pkey{acme, id}]
	if !ok {
		t.Fatalf("no profile stored as %s/%s", id.Namespace, id.ID)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// invalidFields returns the fields an Invalid error names, failing t when
// err is anything else.
func invalidFields(t *testing.T, err error) []string {
	t.Helper()
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.Invalid {
		t.Fatalf("error = %v, want Invalid", err)
	}
	return fieldNames(de.Fields)
}

var (
	crm42   = profile.Identity{Namespace: "crmId", ID: "42"}
	t0      = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1      = t0.Add(time.Hour)
	stored0 = profile.Profile{
		Namespace: "crmId", ID: "42",
		Attributes: map[string]any{"tier": "gold", "address": map[string]any{"city": "Paris", "zip": "75001"}},
		Identities: map[string]string{"email": "jane@example.com"},
		Consent:    map[string]string{"email": "y"},
		Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "tok-1", EndpointARN: "arn:aws:sns:endpoint/1", Enabled: true},
			{AppID: "shop-android", Platform: "GCM", Token: "tok-2", EndpointARN: "arn:aws:sns:endpoint/2", Enabled: true}},
		TimeZone: "Europe/Paris", Locale: "fr-FR", CreatedAt: t0, UpdatedAt: t0,
	}
)

func TestPatch(t *testing.T) {
	with := func(change func(p *profile.Profile)) profile.Profile {
		p := clone(stored0)
		p.Attributes = profile.MergePatch(nil, stored0.Attributes) // a deep copy
		p.UpdatedAt = t1
		change(&p)
		return p
	}
	tests := []struct {
		name  string
		id    profile.Identity
		patch profile.Patch
		want  profile.Profile // as stored
	}{
		{"an empty patch changes only the update time", crm42, profile.Patch{}, with(func(*profile.Profile) {})},
		{"attributes merge: null removes a key, objects merge, other values replace", crm42,
			profile.Patch{Attributes: map[string]any{"tier": "platinum", "address": map[string]any{"zip": nil, "street": "Rue X"}, "new": nil}},
			with(func(p *profile.Profile) {
				p.Attributes = map[string]any{"tier": "platinum", "address": map[string]any{"city": "Paris", "street": "Rue X"}}
			})},
		{"identities and consent merge per key and null removes", crm42,
			profile.Patch{Identities: map[string]*string{"email": nil, "phone": ptr("+15555550100")},
				Consent: map[string]*string{"sms": ptr("n"), "email": nil}},
			with(func(p *profile.Profile) {
				p.Identities = map[string]string{"phone": "+15555550100"}
				p.Consent = map[string]string{"sms": "n"}
			})},
		{"removing every identity leaves none", crm42,
			profile.Patch{Identities: map[string]*string{"email": nil}},
			with(func(p *profile.Profile) { p.Identities = nil })},
		{"devices replace the list and keep Herald's endpoint for the same app and token", crm42,
			profile.Patch{Devices: &[]profile.DeviceInput{
				{AppID: "shop-android", Platform: "fcm", Token: "tok-2", Enabled: ptr(false)},
				{AppID: "shop-ios", Platform: "ios", Token: "tok-3"}}},
			with(func(p *profile.Profile) {
				p.Devices = []profile.Device{
					{AppID: "shop-android", Platform: "GCM", Token: "tok-2", EndpointARN: "arn:aws:sns:endpoint/2", Enabled: false},
					{AppID: "shop-ios", Platform: "APNS", Token: "tok-3", Enabled: true}}
			})},
		{"an empty device list removes every device", crm42,
			profile.Patch{Devices: &[]profile.DeviceInput{}},
			with(func(p *profile.Profile) { p.Devices = []profile.Device{} })},
		{"a nil device list removes every device too", crm42,
			profile.Patch{Devices: new([]profile.DeviceInput)},
			with(func(p *profile.Profile) { p.Devices = []profile.Device{} })},
		{"time zone and locale are set, and empty clears them", crm42,
			profile.Patch{TimeZone: ptr("America/New_York"), Locale: ptr("")},
			with(func(p *profile.Profile) { p.TimeZone, p.Locale = "America/New_York", "" })},
		{"a profile is patched by a secondary identity", profile.Identity{Namespace: "email", ID: "jane@example.com"},
			profile.Patch{Locale: ptr("en-GB")},
			with(func(p *profile.Profile) { p.Locale = "en-GB" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore(stored0)
			svc := &profile.Service{Store: store, Now: func() time.Time { return t1 }}
			got, err := svc.Patch(context.Background(), acme, tt.id, tt.patch)
			if err != nil {
				t.Fatalf("Patch: %v", err)
			}
			if diff := cmp.Diff(tt.want, store.stored(t, crm42)); diff != "" {
				t.Errorf("stored profile (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Public(), got); diff != "" {
				t.Errorf("Patch() returned (-want +got):\n%s", diff)
			}
			for _, d := range got.Devices {
				if d.EndpointARN != "" {
					t.Errorf("Patch() shows the endpoint ARN of %s/%s", d.AppID, d.Token)
				}
			}
		})
	}
}

func TestPatchNeverMovesTheUpdateTimeBack(t *testing.T) {
	store := newFakeStore(stored0)
	behind := t0.Add(-time.Minute) // a clock behind the stored update
	svc := &profile.Service{Store: store, Now: func() time.Time { return behind }}
	got, err := svc.Patch(context.Background(), acme, crm42, profile.Patch{Locale: ptr("de-DE")})
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	if want := t0.Add(time.Nanosecond); !got.UpdatedAt.Equal(want) {
		t.Errorf("Patch().UpdatedAt = %v, want %v (just after the stored one)", got.UpdatedAt, want)
	}
}

func TestPatchValidation(t *testing.T) {
	tests := []struct {
		name  string
		id    profile.Identity
		patch profile.Patch
		want  []string
	}{
		{"a bad identity is refused before the store is read", profile.Identity{Namespace: "crm id", ID: "42"},
			profile.Patch{}, []string{"namespace"}},
		{"an unknown consent channel is named", crm42,
			profile.Patch{Consent: map[string]*string{"fax": ptr("y")}}, []string{"consent.fax"}},
		{"a consent that is not y, n or empty is named", crm42,
			profile.Patch{Consent: map[string]*string{"push": ptr("yes")}}, []string{"consent.push"}},
		{"an unknown time zone is named", crm42,
			profile.Patch{TimeZone: ptr("Mars/Olympus_Mons")}, []string{"timeZone"}},
		{"the machine's Local zone is not an IANA zone", crm42,
			profile.Patch{TimeZone: ptr("Local")}, []string{"timeZone"}},
		{"a locale that is not a language tag is named", crm42,
			profile.Patch{Locale: ptr("french")}, []string{"locale"}},
		{"a locale over 35 characters is named", crm42,
			profile.Patch{Locale: ptr("en" + strings.Repeat("-abcdefgh", 4))}, []string{"locale"}},
		{"an identity patched to empty is named", crm42,
			profile.Patch{Identities: map[string]*string{"email": ptr("")}}, []string{"identities.email"}},
		{"a phone identity must be shaped as a number", crm42,
			profile.Patch{Identities: map[string]*string{"phone": ptr("555-CALL")}}, []string{"identities.phone"}},
		{"each wrong device field is named by its index", crm42,
			profile.Patch{Devices: &[]profile.DeviceInput{
				{AppID: "", Platform: "ios", Token: "t"},
				{AppID: "shop", Platform: "ios", Token: " t"},
				{AppID: "shop", Platform: "ios", Token: "a"},
				{AppID: "shop", Platform: "ios", Token: "a"},
				{AppID: "shop", Platform: "ios", Token: strings.Repeat("t", profile.MaxTokenLen+1)},
				{AppID: "sh\x00p", Platform: "blackberry", Token: "b"}}},
			[]string{"devices[0].appId", "devices[1].token", "devices[3].token", "devices[4].token",
				"devices[5].appId", "devices[5].platform"}},
		{"more than twenty devices are refused", crm42,
			profile.Patch{Devices: func() *[]profile.DeviceInput {
				ds := make([]profile.DeviceInput, profile.MaxDevices+1)
				for i := range ds {
					ds[i] = profile.DeviceInput{AppID: "shop", Platform: "gcm", Token: fmt.Sprint("t", i)}
				}
				return &ds
			}()}, []string{"devices"}},
		{"an attribute the store cannot keep is named", crm42,
			profile.Patch{Attributes: map[string]any{"n": 1e300}}, []string{"attributes.n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore(stored0)
			svc := &profile.Service{Store: store, Now: func() time.Time { return t1 }}
			_, err := svc.Patch(context.Background(), acme, tt.id, tt.patch)
			if diff := cmp.Diff(tt.want, invalidFields(t, err)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(stored0, store.stored(t, crm42)); diff != "" {
				t.Errorf("an invalid patch changed the profile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPatchPassesOnTheStoresVerdict(t *testing.T) {
	other := profile.Profile{Namespace: "crmId", ID: "7", Identities: map[string]string{"email": "bob@example.com"}}
	tests := []struct {
		name  string
		id    profile.Identity
		patch profile.Patch
		want  derrors.Kind
	}{
		{"an unknown profile is not found", profile.Identity{Namespace: "crmId", ID: "nobody"}, profile.Patch{}, derrors.NotFound},
		{"an identity of another profile is a conflict", crm42,
			profile.Patch{Identities: map[string]*string{"email": ptr("bob@example.com")}}, derrors.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore(stored0, other)
			_, err := (&profile.Service{Store: store}).Patch(context.Background(), acme, tt.id, tt.patch)
			if !derrors.Is(err, tt.want) {
				t.Errorf("Patch() error = %v, want %v", err, tt.want)
			}
			if diff := cmp.Diff(stored0, store.stored(t, crm42)); diff != "" {
				t.Errorf("a refused patch changed the profile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergePatchLeavesItsArgumentsAlone(t *testing.T) {
	target := map[string]any{"a": "1", "o": map[string]any{"x": "1", "y": "2"}}
	patch := map[string]any{"a": nil, "o": map[string]any{"x": nil, "z": "3"}, "n": map[string]any{"k": nil, "v": "4"}}
	got := profile.MergePatch(target, patch)
	want := map[string]any{"o": map[string]any{"y": "2", "z": "3"}, "n": map[string]any{"v": "4"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MergePatch() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"a": "1", "o": map[string]any{"x": "1", "y": "2"}}, target); diff != "" {
		t.Errorf("MergePatch changed its target (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"a": nil, "o": map[string]any{"x": nil, "z": "3"}, "n": map[string]any{"k": nil, "v": "4"}}, patch); diff != "" {
		t.Errorf("MergePatch changed its patch (-want +got):\n%s", diff)
	}
	if got := profile.MergePatch(nil, map[string]any{"k": nil}); got == nil || len(got) != 0 {
		t.Errorf("MergePatch(nil, {k: null}) = %v, want an empty object", got)
	}
}

func TestUpsertOfAnExistingProfile(t *testing.T) {
	jane := profile.Identity{Namespace: "email", ID: "jane@example.com"}
	tests := []struct {
		name string
		id   profile.Identity
		now  time.Time
		in   profile.Input
		want profile.Profile // as stored
	}{
		{"addressed by a secondary identity, the profile keeps its primary one", jane, t1,
			profile.Input{Attributes: map[string]any{"tier": "silver"}, Identities: map[string]string{"email": "jane@example.com"}},
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"tier": "silver"},
				Identities: map[string]string{"email": "jane@example.com"}, CreatedAt: t0, UpdatedAt: t1}},
		{"devices kept keep Herald's endpoint and new ones have none", crm42, t1,
			profile.Input{Devices: []profile.DeviceInput{{AppID: "shop-ios", Platform: "apns", Token: "tok-1"},
				{AppID: "shop-ios", Platform: "apns", Token: "tok-9"}}},
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{},
				Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "tok-1", EndpointARN: "arn:aws:sns:endpoint/1", Enabled: true},
					{AppID: "shop-ios", Platform: "APNS", Token: "tok-9", Enabled: true}},
				CreatedAt: t0, UpdatedAt: t1}},
		{"a clock behind the stored update still moves the update time forward", crm42, t0.Add(-time.Hour),
			profile.Input{Locale: "fr-CA", TimeZone: "America/Montreal", Consent: map[string]string{"push": "n"}},
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{}, Locale: "fr-CA", TimeZone: "America/Montreal",
				Consent: map[string]string{"push": "n"}, CreatedAt: t0, UpdatedAt: t0.Add(time.Nanosecond)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore(stored0)
			svc := &profile.Service{Store: store, Now: func() time.Time { return tt.now }}
			got, err := svc.Upsert(context.Background(), acme, tt.id, tt.in)
			if err != nil {
				t.Fatalf("Upsert: %v", err)
			}
			if diff := cmp.Diff(tt.want, store.stored(t, crm42)); diff != "" {
				t.Errorf("stored profile (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Public(), got); diff != "" {
				t.Errorf("Upsert() returned (-want +got):\n%s", diff)
			}
			if n := len(store.profiles); n != 1 {
				t.Errorf("%d profiles stored, want 1", n)
			}
		})
	}
}

func TestUpsertFailures(t *testing.T) {
	boom := errors.New("connection reset")
	tests := []struct {
		name      string
		fail      string
		in        profile.Input
		wantKind  derrors.Kind
		wantErr   error
		wantCalls []string
	}{
		{"a failed read is reported and nothing is written", "Get", profile.Input{}, derrors.Internal, boom, []string{"Get"}},
		{"a failed write is reported", "Put", profile.Input{}, derrors.Internal, boom, []string{"Get", "Put"}},
		{"an identity of another profile is a conflict", "",
			profile.Input{Identities: map[string]string{"email": "bob@example.com"}}, derrors.Conflict, nil, []string{"Get", "Put"}},
		{"an invalid profile is refused after the read, before the write", "",
			profile.Input{Consent: map[string]string{"email": "maybe"}}, derrors.Invalid, nil, []string{"Get"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore(profile.Profile{Namespace: "crmId", ID: "7", Identities: map[string]string{"email": "bob@example.com"}})
			if tt.fail != "" {
				store.fail[tt.fail] = boom
			}
			_, err := (&profile.Service{Store: store}).Upsert(context.Background(), acme, crm42, tt.in)
			if k := derrors.KindOf(err); err == nil || k != tt.wantKind {
				t.Errorf("Upsert() error = %v (kind %v), want kind %v", err, k, tt.wantKind)
			}
			if tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), "upsert profile: ")) {
				t.Errorf("Upsert() error = %v, want %v wrapped with context", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantCalls, store.calls); diff != "" {
				t.Errorf("store calls (-want +got):\n%s", diff)
			}
			if _, ok := store.find(acme, crm42); ok {
				t.Error("a failed upsert stored the profile")
			}
		})
	}
}

func TestGetShowsThePublicProfile(t *testing.T) {
	store := newFakeStore(stored0)
	svc := &profile.Service{Store: store}
	for _, id := range []profile.Identity{crm42, {Namespace: "email", ID: "jane@example.com"}} {
		got, err := svc.Get(context.Background(), acme, id)
		if err != nil {
			t.Fatalf("Get(%v): %v", id, err)
		}
		if diff := cmp.Diff(stored0.Public(), got); diff != "" {
			t.Errorf("Get(%v) (-want +got):\n%s", id, diff)
		}
	}
	if got := store.stored(t, crm42).Devices[0].EndpointARN; got == "" {
		t.Error("Public() cleared the stored profile's endpoint ARN")
	}
	store.calls = nil
	if _, err := svc.Get(context.Background(), acme, profile.Identity{Namespace: "email", ID: "not-an-address"}); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("Get(bad identity) error = %v, want Invalid", err)
	}
	if len(store.calls) != 0 {
		t.Errorf("a bad identity reached the store: %v", store.calls)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore(stored0)
	svc := &profile.Service{Store: store}
	if err := svc.Delete(ctx, acme, profile.Identity{Namespace: "", ID: "42"}); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("Delete(no namespace) error = %v, want Invalid", err)
	}
	if len(store.calls) != 0 {
		t.Errorf("a bad identity reached the store: %v", store.calls)
	}
	if err := svc.Delete(ctx, globex, crm42); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Delete(another tenant's profile) error = %v, want NotFound", err)
	}
	if err := svc.Delete(ctx, acme, profile.Identity{Namespace: "email", ID: "jane@example.com"}); err != nil {
		t.Fatalf("Delete(by secondary identity): %v", err)
	}
	if _, err := svc.Get(ctx, acme, crm42); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Get(erased) error = %v, want NotFound", err)
	}
	if err := svc.Delete(ctx, acme, crm42); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Delete(erased) error = %v, want NotFound", err)
	}
}

func TestBatchRefusesABadList(t *testing.T) {
	tests := []struct {
		name  string
		items []profile.BatchItem
		want  []derrors.FieldError
	}{
		{"a missing list is required", nil, []derrors.FieldError{{Field: "profiles", Message: "is required"}}},
		{"an empty list is refused", []profile.BatchItem{},
			[]derrors.FieldError{{Field: "profiles", Message: "must hold 1 to 1000 profiles, not 0"}}},
		{"more than a thousand profiles are refused", make([]profile.BatchItem, profile.MaxBatch+1),
			[]derrors.FieldError{{Field: "profiles", Message: "must hold 1 to 1000 profiles, not 1001"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			_, err := (&profile.Service{Store: store}).Batch(context.Background(), acme, tt.items)
			var de *derrors.Error
			if !errors.As(err, &de) || de.Kind != derrors.Invalid {
				t.Fatalf("Batch() error = %v, want Invalid", err)
			}
			if diff := cmp.Diff(tt.want, de.Fields); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if len(store.calls) != 0 {
				t.Errorf("a bad list reached the store: %v", store.calls)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	store := newFakeStore(stored0, profile.Profile{Namespace: "crmId", ID: "7", Identities: map[string]string{"email": "bob@example.com"}})
	svc := &profile.Service{Store: store, Now: func() time.Time { return t1 }}
	items := []profile.BatchItem{
		{Namespace: "crmId", ID: "42", Input: profile.Input{Attributes: map[string]any{"tier": "silver"},
			Identities: map[string]string{"email": "jane@example.com"}}},
		{Namespace: "crmId", ID: "43", Input: profile.Input{Locale: "en-US"}},
		{Namespace: "crm id", ID: "44"},
		{Namespace: "email", ID: "jane@example.com", Input: profile.Input{Locale: "de-DE"}},
		{Namespace: "crmId", ID: "43"},
		{Namespace: "crmId", ID: "45", Input: profile.Input{Identities: map[string]string{"email": "bob@example.com"}}},
		{Namespace: "crmId", ID: "46", Input: profile.Input{TimeZone: "Nowhere/Town"}},
	}
	res, err := svc.Batch(context.Background(), acme, items)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	want := []profile.BatchResult{
		{Namespace: "crmId", ID: "42", Status: 200},
		{Namespace: "crmId", ID: "43", Status: 200},
		{Namespace: "crm id", ID: "44", Status: 400, Errors: []derrors.FieldError{
			{Field: "profiles[2]", Message: "namespace must be 1-64 of letters, digits, '_' and '-'"}}},
		{Namespace: "email", ID: "jane@example.com", Status: 400, Errors: []derrors.FieldError{
			{Field: "profiles[3].id", Message: "duplicates profiles[0]"}}},
		{Namespace: "crmId", ID: "43", Status: 400, Errors: []derrors.FieldError{
			{Field: "profiles[4].id", Message: "duplicates profiles[1]"}}},
		{Namespace: "crmId", ID: "45", Status: 409, Detail: "identity email/bob@example.com belongs to another profile"},
		{Namespace: "crmId", ID: "46", Status: 400, Errors: []derrors.FieldError{
			{Field: "profiles[6].timeZone", Message: "must be an IANA time zone such as Europe/Paris"}}},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Batch() results (-want +got):\n%s", diff)
	}

	t.Run("only valid identities are read", func(t *testing.T) {
		var got []string
		for _, id := range store.batchGot[0] {
			got = append(got, id.Namespace+"/"+id.ID)
		}
		wantRead := []string{"crmId/42", "crmId/43", "email/jane@example.com", "crmId/43", "crmId/45", "crmId/46"}
		if diff := cmp.Diff(wantRead, got); diff != "" {
			t.Errorf("BatchGet identities (-want +got):\n%s", diff)
		}
	})
	t.Run("an existing profile keeps its creation time", func(t *testing.T) {
		want := profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"tier": "silver"},
			Identities: map[string]string{"email": "jane@example.com"}, CreatedAt: t0, UpdatedAt: t1}
		if diff := cmp.Diff(want, store.stored(t, crm42)); diff != "" {
			t.Errorf("stored profile (-want +got):\n%s", diff)
		}
	})
	t.Run("a new profile is created now", func(t *testing.T) {
		want := profile.Profile{Namespace: "crmId", ID: "43", Attributes: map[string]any{}, Locale: "en-US", CreatedAt: t1, UpdatedAt: t1}
		if diff := cmp.Diff(want, store.stored(t, profile.Identity{Namespace: "crmId", ID: "43"})); diff != "" {
			t.Errorf("stored profile (-want +got):\n%s", diff)
		}
	})
	t.Run("refused profiles are not stored", func(t *testing.T) {
		for _, id := range []string{"44", "45", "46"} {
			if _, ok := store.find(acme, profile.Identity{Namespace: "crmId", ID: id}); ok {
				t.Errorf("profile crmId/%s was stored", id)
			}
		}
	})
}

func TestBatchWithOnlyInvalidItemsWritesNothing(t *testing.T) {
	store := newFakeStore()
	res, err := (&profile.Service{Store: store}).Batch(context.Background(), acme, []profile.BatchItem{{Namespace: "email", ID: "nope"}})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if len(res) != 1 || res[0].Status != 400 {
		t.Errorf("Batch() = %+v, want one 400", res)
	}
	if diff := cmp.Diff([]string{"BatchGet"}, store.calls); diff != "" {
		t.Errorf("store calls (-want +got):\n%s", diff)
	}
}

func TestBatchReportsAFailedRead(t *testing.T) {
	store := newFakeStore()
	boom := errors.New("connection reset")
	store.fail["BatchGet"] = boom
	_, err := (&profile.Service{Store: store}).Batch(context.Background(), acme, []profile.BatchItem{{Namespace: "crmId", ID: "1"}})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "batch: read profiles: ") {
		t.Errorf("Batch() error = %v, want %v wrapped with context", err, boom)
	}
	if slices.Contains(store.calls, "PutBatch") {
		t.Error("Batch wrote after a failed read")
	}
}

func TestConsentsTo(t *testing.T) {
	p := profile.Profile{Consent: map[string]string{"email": "y", "sms": "n", "push": ""}}
	for ch, want := range map[string]bool{"email": true, "sms": false, "push": true, "whatsapp": true} {
		if got := p.ConsentsTo(ch); got != want {
			t.Errorf("ConsentsTo(%q) = %t, want %t", ch, got, want)
		}
	}
	if !(profile.Profile{}).ConsentsTo("email") {
		t.Error("a profile without consents does not consent: want consent assumed")
	}
}

func TestPhone(t *testing.T) {
	tests := []struct {
		name string
		p    profile.Profile
		want string
	}{
		{"the primary phone identity comes first",
			profile.Profile{Namespace: "phone", ID: "+15555550100", Identities: map[string]string{"phone": "+15555550101"},
				Attributes: map[string]any{"phone": "+15555550102"}}, "+15555550100"},
		{"then a phone identity",
			profile.Profile{Namespace: "crmId", ID: "42", Identities: map[string]string{"phone": "+15555550101"},
				Attributes: map[string]any{"phone": "+15555550102"}}, "+15555550101"},
		{"then a phone attribute",
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"phone": "+15555550102",
				"mobilePhone": map[string]any{"number": "+15555550103"}}}, "+15555550102"},
		{"then the XDM mobilePhone.number",
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"mobilePhone": map[string]any{"number": "+15555550103"}}},
			"+15555550103"},
		{"a number that is not a string is ignored",
			profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"phone": 15555550102,
				"mobilePhone": map[string]any{"number": 15555550103}}}, ""},
		{"a profile without a number has none", profile.Profile{Namespace: "crmId", ID: "42"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Phone(); got != tt.want {
				t.Errorf("Phone() = %q, want %q", got, tt.want)
			}
		})
	}
}
