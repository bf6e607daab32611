package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
)

func id(ns, v string) profile.Identity { return profile.Identity{Namespace: ns, ID: v} }

// person is a profile with a primary identity and others ("ns", "id" pairs).
func person(ns, v string, others ...string) profile.Profile {
	p := profile.Profile{Namespace: ns, ID: v, Attributes: map[string]any{"name": v}, CreatedAt: t0, UpdatedAt: t0}
	for i := 0; i+1 < len(others); i += 2 {
		if p.Identities == nil {
			p.Identities = map[string]string{}
		}
		p.Identities[others[i]] = others[i+1]
	}
	return p
}

// notStored fails t if i finds a profile other than jane's (crmId 42).
func notStored(t *testing.T, s profile.Store, i profile.Identity) {
	t.Helper()
	got, err := s.Get(context.Background(), acme, i)
	switch {
	case err == nil && got.ID != "42":
		t.Errorf("Get(%v) = profile %s:%s, want none or jane's", i, got.Namespace, got.ID)
	case err != nil && !derrors.Is(err, derrors.NotFound):
		t.Errorf("Get(%v) = %v, want a profile or not found", i, err)
	}
}

// Profiles runs the profile.Store contract; newStore returns a fresh,
// empty store.
func Profiles(t *testing.T, newStore func(t *testing.T) profile.Store) {
	ctx := context.Background()
	jane := person("crmId", "42", "email", "jane@example.com", "phone", "+14155550100")
	put := func(t *testing.T, s profile.Store, ps ...profile.Profile) {
		t.Helper()
		for _, p := range ps {
			if err := s.Put(ctx, acme, p); err != nil {
				t.Fatalf("Put(%s:%s): %v", p.Namespace, p.ID, err)
			}
		}
	}
	get := func(t *testing.T, s profile.Store, i profile.Identity) profile.Profile {
		t.Helper()
		p, err := s.Get(ctx, acme, i)
		if err != nil {
			t.Fatalf("Get(%v): %v", i, err)
		}
		return p
	}

	t.Run("a put profile is read back as it was put", func(t *testing.T) {
		s := newStore(t)
		p := jane
		p.Attributes = map[string]any{"name": "Jane", "age": float64(41), "vip": true, "tags": []any{"a", float64(2)},
			"address": map[string]any{"city": "Paris", "zip": "75001"}}
		p.Consent = map[string]string{"email": profile.ConsentYes, "sms": profile.ConsentNo}
		p.Devices = []profile.Device{{AppID: "shop", Platform: "GCM", Token: "tok", EndpointARN: "arn:aws:sns:us-east-1:1:endpoint/GCM/shop/1", Enabled: true}}
		p.TimeZone, p.Locale = "Europe/Paris", "fr-FR"
		put(t, s, p)
		if diff := cmp.Diff(p, get(t, s, p.Identity())); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
	})
	t.Run("every identity finds the profile and nothing else does", func(t *testing.T) {
		s := newStore(t)
		put(t, s, jane)
		tests := []struct {
			name string
			tn   bool // the other tenant
			id   profile.Identity
			want derrors.Kind
		}{
			{"the primary identity", false, id("crmId", "42"), noError},
			{"the email identity", false, id("email", "jane@example.com"), noError},
			{"the phone identity", false, id("phone", "+14155550100"), noError},
			{"an unknown identity", false, id("crmId", "43"), derrors.NotFound},
			{"an id in another namespace", false, id("loyaltyId", "42"), derrors.NotFound},
			{"another tenant's read of the email", true, id("email", "jane@example.com"), derrors.NotFound},
		}
		for _, tt := range tests {
			tn := acme
			if tt.tn {
				tn = other
			}
			got, err := s.Get(ctx, tn, tt.id)
			wantKind(t, "Get by "+tt.name, err, tt.want)
			if err == nil && got.ID != "42" {
				t.Errorf("Get by %s = profile %s, want 42", tt.name, got.ID)
			}
		}
	})
	t.Run("an identity belongs to one profile", func(t *testing.T) {
		tests := []struct {
			name string
			p    profile.Profile
		}{
			{"another profile with jane's email as an identity", person("crmId", "43", "email", "jane@example.com")},
			{"a profile whose primary identity is jane's email", person("email", "jane@example.com")},
			{"a profile with jane's primary identity as another", person("email", "bob@example.com", "crmId", "42")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				put(t, s, jane)
				wantKind(t, "Put", s.Put(ctx, acme, tt.p), derrors.Conflict)
				notStored(t, s, tt.p.Identity())
				if err := s.Put(ctx, other, tt.p); err != nil {
					t.Errorf("another tenant's Put: %v", err)
				}
			})
		}
	})
	t.Run("replacing a profile frees the identities it dropped", func(t *testing.T) {
		s := newStore(t)
		put(t, s, jane)
		moved := jane
		moved.Identities = map[string]string{"phone": "+14155550100"}
		moved.UpdatedAt = t0.Add(time.Second)
		put(t, s, moved)
		_, err := s.Get(ctx, acme, id("email", "jane@example.com"))
		wantKind(t, "Get(dropped email)", err, derrors.NotFound)
		put(t, s, person("crmId", "43", "email", "jane@example.com"))
		if got := get(t, s, id("email", "jane@example.com")); got.ID != "43" {
			t.Errorf("the freed email finds profile %s, want 43", got.ID)
		}
	})
	t.Run("batch get finds profiles by any identity and leaves out the rest", func(t *testing.T) {
		s := newStore(t)
		var ps []profile.Profile
		var ids []profile.Identity
		for i := range 130 {
			ps = append(ps, person("crmId", fmt.Sprint("b", i)))
			ids = append(ids, id("crmId", fmt.Sprint("b", i)), id("crmId", fmt.Sprint("nobody", i)))
		}
		for i, err := range s.PutBatch(ctx, acme, ps) {
			if err != nil {
				t.Fatalf("PutBatch profile %d: %v", i, err)
			}
		}
		put(t, s, jane)
		ids = append(ids, id("email", "jane@example.com"), id("crmId", "42"), id("email", "jane@example.com"))
		got, err := s.BatchGet(ctx, acme, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 132 {
			t.Errorf("BatchGet found %d profiles, want 132 (130 by primary, jane by two identities)", len(got))
		}
		for _, i := range []profile.Identity{id("email", "jane@example.com"), id("crmId", "42")} {
			if diff := cmp.Diff(jane, got[i]); diff != "" {
				t.Errorf("BatchGet[%v] (-want +got):\n%s", i, diff)
			}
		}
		if got[id("crmId", "b129")].ID != "b129" {
			t.Errorf("BatchGet[crmId:b129] = %+v", got[id("crmId", "b129")])
		}
		if theirs, err := s.BatchGet(ctx, other, ids); err != nil || len(theirs) != 0 {
			t.Errorf("another tenant's BatchGet = %d profiles, %v; want none", len(theirs), err)
		}
		if none, err := s.BatchGet(ctx, acme, nil); err != nil || len(none) != 0 {
			t.Errorf("BatchGet(no ids) = %v, %v; want none", none, err)
		}
	})
	t.Run("create if absent stores only a profile none of whose identities exists", func(t *testing.T) {
		changed := func(p profile.Profile) profile.Profile {
			p.Attributes = map[string]any{"name": "changed"}
			return p
		}
		tests := []struct {
			name   string
			p      profile.Profile
			stored bool
		}{
			{"a new profile is stored", person("crmId", "43", "email", "bob@example.com"), true},
			{"an existing profile is left untouched", changed(jane), false},
			{"a profile whose primary is jane's email is not stored", changed(person("email", "jane@example.com")), false},
			{"a profile with jane's email as an identity is not stored", person("crmId", "44", "email", "jane@example.com"), false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				put(t, s, jane)
				wantKind(t, "CreateIfAbsent", s.CreateIfAbsent(ctx, acme, tt.p), noError)
				if diff := cmp.Diff(jane, get(t, s, id("email", "jane@example.com"))); diff != "" {
					t.Errorf("jane after CreateIfAbsent (-want +got):\n%s", diff)
				}
				got, err := s.Get(ctx, acme, tt.p.Identity())
				if tt.stored {
					wantKind(t, "Get", err, noError)
					if diff := cmp.Diff(tt.p, got); diff != "" {
						t.Errorf("stored (-want +got):\n%s", diff)
					}
				} else {
					notStored(t, s, tt.p.Identity())
				}
			})
		}
	})
	t.Run("update applies a change through any identity and moves updatedAt forward", func(t *testing.T) {
		tests := []struct {
			name    string
			at      time.Time // the updatedAt fn sets (zero: left alone)
			wantAt  time.Time
			through profile.Identity
		}{
			{"an update leaving updatedAt alone", time.Time{}, t0.Add(time.Nanosecond), id("email", "jane@example.com")},
			{"an update setting a later updatedAt", t0.Add(time.Hour), t0.Add(time.Hour), id("crmId", "42")},
			{"an update setting an earlier updatedAt", t0.Add(-time.Hour), t0.Add(time.Nanosecond), id("phone", "+14155550100")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				put(t, s, jane)
				got, err := s.Update(ctx, acme, tt.through, func(p *profile.Profile) error {
					p.Attributes["tier"] = "gold"
					p.Consent = map[string]string{"sms": profile.ConsentNo}
					if !tt.at.IsZero() {
						p.UpdatedAt = tt.at
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				want := jane
				want.Attributes = map[string]any{"name": "42", "tier": "gold"}
				want.Consent = map[string]string{"sms": profile.ConsentNo}
				want.UpdatedAt = tt.wantAt
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Update returned (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, get(t, s, jane.Identity())); diff != "" {
					t.Errorf("stored after Update (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("a refused update stores nothing", func(t *testing.T) {
		errNo := errors.New("no, thanks")
		tests := []struct {
			name string
			id   profile.Identity
			fn   func(*profile.Profile) error
			want derrors.Kind
		}{
			{"an unknown profile is not found", id("crmId", "none"), func(*profile.Profile) error { return nil }, derrors.NotFound},
			{"taking another profile's identity is a conflict", jane.Identity(),
				func(p *profile.Profile) error { p.Identities["loyaltyId"] = "bob"; return nil }, derrors.Conflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				put(t, s, jane, person("loyaltyId", "bob"))
				_, err := s.Update(ctx, acme, tt.id, tt.fn)
				wantKind(t, "Update", err, tt.want)
				if diff := cmp.Diff(jane, get(t, s, jane.Identity())); diff != "" {
					t.Errorf("jane after a refused Update (-want +got):\n%s", diff)
				}
			})
		}
		t.Run("fn's error is returned", func(t *testing.T) {
			s := newStore(t)
			put(t, s, jane)
			_, err := s.Update(ctx, acme, jane.Identity(), func(p *profile.Profile) error { p.ID = "changed"; return errNo })
			if !errors.Is(err, errNo) {
				t.Errorf("Update = %v, want fn's error", err)
			}
			if diff := cmp.Diff(jane, get(t, s, jane.Identity())); diff != "" {
				t.Errorf("jane after fn failed (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("delete erases the profile and every identity, which are then free", func(t *testing.T) {
		s := newStore(t)
		put(t, s, jane)
		wantKind(t, "another tenant's Delete", s.Delete(ctx, other, jane.Identity()), derrors.NotFound)
		wantKind(t, "Delete by email", s.Delete(ctx, acme, id("email", "jane@example.com")), noError)
		for _, i := range jane.AllIdentities() {
			_, err := s.Get(ctx, acme, i)
			wantKind(t, fmt.Sprintf("Get(%v) after Delete", i), err, derrors.NotFound)
		}
		wantKind(t, "Delete twice", s.Delete(ctx, acme, jane.Identity()), derrors.NotFound)
		put(t, s, person("email", "jane@example.com"), person("phone", "+14155550100"))
	})
	t.Run("put batch reports each profile's outcome", func(t *testing.T) {
		s := newStore(t)
		put(t, s, person("crmId", "owner", "email", "taken@example.com"), person("crmId", "b5", "email", "old5@example.com"), person("crmId", "b6"))
		var ps []profile.Profile
		for i := range 60 {
			ps = append(ps, person("crmId", fmt.Sprint("b", i)))
		}
		ps[5].Identities = map[string]string{"email": "new5@example.com"} // identities change
		ps[6].Attributes = map[string]any{"name": "six again"}            // replaced as it is
		ps[10].Identities = map[string]string{"email": "b10@example.com"} // new, with an identity
		ps[20].Identities = map[string]string{"email": "taken@example.com"}
		ps[30] = person("email", "taken@example.com") // another profile's identity as primary
		for i, err := range s.PutBatch(ctx, acme, ps) {
			want := noError
			if i == 20 || i == 30 {
				want = derrors.Conflict
			}
			wantKind(t, fmt.Sprintf("PutBatch profile %d", i), err, want)
		}
		for _, tt := range []struct {
			id   profile.Identity
			want profile.Profile
		}{
			{id("email", "new5@example.com"), ps[5]},
			{id("crmId", "b6"), ps[6]},
			{id("email", "b10@example.com"), ps[10]},
			{id("email", "taken@example.com"), person("crmId", "owner", "email", "taken@example.com")},
		} {
			if diff := cmp.Diff(tt.want, get(t, s, tt.id)); diff != "" {
				t.Errorf("Get(%v) after PutBatch (-want +got):\n%s", tt.id, diff)
			}
		}
		_, err := s.Get(ctx, acme, id("email", "old5@example.com"))
		wantKind(t, "Get(an identity b5 dropped)", err, derrors.NotFound)
		_, err = s.Get(ctx, acme, id("crmId", "b20"))
		wantKind(t, "Get(the refused b20)", err, derrors.NotFound)
	})
	t.Run("stored profiles are copies of the caller's", func(t *testing.T) {
		s := newStore(t)
		p := person("crmId", "42", "email", "jane@example.com")
		put(t, s, p)
		p.Attributes["name"], p.Identities["email"] = "changed", "changed@example.com"
		got := get(t, s, jane.Identity())
		got.Attributes["name"] = "changed too"
		if diff := cmp.Diff(person("crmId", "42", "email", "jane@example.com"), get(t, s, jane.Identity())); diff != "" {
			t.Errorf("stored after the caller changed its copies (-want +got):\n%s", diff)
		}
	})
}
