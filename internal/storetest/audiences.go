package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/derrors"
)

// past is well before any clock a store may stamp changes with.
var past = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

func newAudience(id string) audience.Audience {
	return audience.Audience{ID: id, Name: "Audience " + id, Description: "who " + id + " is", CreatedAt: past, UpdatedAt: past}
}

func members(ids ...string) []audience.Member {
	var out []audience.Member
	for _, id := range ids {
		out = append(out, audience.Member{Namespace: "crmId", ID: id})
	}
	return out
}

// Audiences runs the audience.Store contract; newStore returns a fresh,
// empty store.
func Audiences(t *testing.T, newStore func(t *testing.T) audience.Store) {
	ctx := context.Background()
	setUp := func(t *testing.T, ids ...string) audience.Store {
		t.Helper()
		s := newStore(t)
		if err := s.CreateAudience(ctx, acme, newAudience("a1")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddMembers(ctx, acme, "a1", members(ids...)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// all follows the members' cursors from the first page.
	all := func(t *testing.T, s audience.Store, limit int) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for range 20 {
			p, err := s.Members(ctx, acme, "a1", cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Members) > limit {
				t.Errorf("a page of %d members, over the limit of %d", len(p.Members), limit)
			}
			for _, m := range p.Members {
				ids = append(ids, m.Namespace+":"+m.ID)
			}
			if cursor = p.Next; cursor == "" {
				return ids
			}
		}
		t.Fatal("still a next page after 20 pages")
		return nil
	}

	t.Run("a created audience is read back as created, in its tenant only, and created once", func(t *testing.T) {
		s := setUp(t)
		got, err := s.GetAudience(ctx, acme, "a1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(newAudience("a1"), got); diff != "" {
			t.Errorf("GetAudience (-want +got):\n%s", diff)
		}
		wantKind(t, "second CreateAudience", s.CreateAudience(ctx, acme, newAudience("a1")), derrors.Conflict)
		_, err = s.GetAudience(ctx, other, "a1")
		wantKind(t, "another tenant's GetAudience", err, derrors.NotFound)
		_, err = s.GetAudience(ctx, acme, "a2")
		wantKind(t, "GetAudience(unknown)", err, derrors.NotFound)
	})
	t.Run("members are counted once, as they come and go", func(t *testing.T) {
		s := setUp(t)
		steps := []struct {
			name  string
			add   bool
			ids   []string
			want  int
			count int64
		}{
			{"adding two new members", true, []string{"a", "b"}, 2, 2},
			{"adding one present and one new", true, []string{"b", "c"}, 1, 3},
			{"adding only present members", true, []string{"a", "c"}, 0, 3},
			{"removing one present and one absent", false, []string{"a", "x"}, 1, 2},
			{"removing an absent member", false, []string{"a"}, 0, 2},
			{"adding none", true, nil, 0, 2},
		}
		for _, st := range steps {
			before, _ := s.GetAudience(ctx, acme, "a1")
			var n int
			var err error
			if st.add {
				n, err = s.AddMembers(ctx, acme, "a1", members(st.ids...))
			} else {
				n, err = s.RemoveMembers(ctx, acme, "a1", members(st.ids...))
			}
			if err != nil || n != st.want {
				t.Errorf("%s = %d, %v; want %d", st.name, n, err, st.want)
			}
			got, err := s.GetAudience(ctx, acme, "a1")
			if err != nil {
				t.Fatal(err)
			}
			if got.MemberCount != st.count {
				t.Errorf("after %s: memberCount %d, want %d", st.name, got.MemberCount, st.count)
			}
			if changed := got.UpdatedAt.After(before.UpdatedAt); changed != (st.want > 0) {
				t.Errorf("after %s: updatedAt %v (was %v); want it moved forward only by a change", st.name, got.UpdatedAt, before.UpdatedAt)
			}
			if diff := cmp.Diff(before, got, cmpopts.IgnoreFields(audience.Audience{}, "MemberCount", "UpdatedAt")); diff != "" {
				t.Errorf("after %s (-before +after):\n%s", st.name, diff)
			}
		}
		if diff := cmp.Diff([]string{"crmId:b", "crmId:c"}, all(t, s, 10)); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		for _, tn := range []struct {
			name string
			add  bool
		}{{"AddMembers", true}, {"RemoveMembers", false}} {
			change := s.RemoveMembers
			if tn.add {
				change = s.AddMembers
			}
			_, err := change(ctx, acme, "a2", members("a"))
			wantKind(t, tn.name+" of an unknown audience", err, derrors.NotFound)
			_, err = change(ctx, other, "a1", members("a"))
			wantKind(t, tn.name+" of another tenant's audience", err, derrors.NotFound)
		}
	})
	t.Run("members are listed in a stable order, in pages, without loss", func(t *testing.T) {
		s := setUp(t, "m5", "m1", "m3")
		if _, err := s.AddMembers(ctx, acme, "a1", []audience.Member{{Namespace: "email", ID: "z@example.com"}, {Namespace: "crmId", ID: "m2"}, {Namespace: "crmId", ID: "m4"}}); err != nil {
			t.Fatal(err)
		}
		want := []string{"crmId:m1", "crmId:m2", "crmId:m3", "crmId:m4", "crmId:m5", "email:z@example.com"}
		for _, limit := range []int{1, 2, 4, 6, 100} {
			t.Run(fmt.Sprintf("in pages of %d", limit), func(t *testing.T) {
				if diff := cmp.Diff(want, all(t, s, limit)); diff != "" {
					t.Errorf("members (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("a members cursor stays valid while members change", func(t *testing.T) {
		s := setUp(t, "m2", "m4", "m6")
		p, err := s.Members(ctx, acme, "a1", "", 2)
		if err != nil || p.Next == "" {
			t.Fatalf("first page = %+v, %v; want a next page", p, err)
		}
		if _, err := s.AddMembers(ctx, acme, "a1", members("m1", "m5")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RemoveMembers(ctx, acme, "a1", members("m4")); err != nil {
			t.Fatal(err)
		}
		rest, err := s.Members(ctx, acme, "a1", p.Next, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(members("m5", "m6"), rest.Members); diff != "" {
			t.Errorf("the page after the cursor (-want +got):\n%s", diff)
		}
	})
	t.Run("delete removes the audience and its members", func(t *testing.T) {
		s := setUp(t, "m1", "m2")
		wantKind(t, "another tenant's DeleteAudience", s.DeleteAudience(ctx, other, "a1"), derrors.NotFound)
		wantKind(t, "DeleteAudience", s.DeleteAudience(ctx, acme, "a1"), noError)
		_, err := s.GetAudience(ctx, acme, "a1")
		wantKind(t, "GetAudience after DeleteAudience", err, derrors.NotFound)
		wantKind(t, "DeleteAudience twice", s.DeleteAudience(ctx, acme, "a1"), derrors.NotFound)
		if err := s.CreateAudience(ctx, acme, newAudience("a1")); err != nil {
			t.Fatal(err)
		}
		if got := all(t, s, 10); len(got) != 0 {
			t.Errorf("members of an audience created again under a deleted one's id = %v, want none", got)
		}
	})
	t.Run("an unknown audience has no members", func(t *testing.T) {
		s := setUp(t, "m1")
		for _, tt := range []struct {
			name string
			call func() (audience.Page, error)
		}{
			{"an unknown audience", func() (audience.Page, error) { return s.Members(ctx, acme, "a2", "", 10) }},
			{"another tenant's audience", func() (audience.Page, error) { return s.Members(ctx, other, "a1", "", 10) }},
		} {
			p, err := tt.call()
			if err != nil || len(p.Members) != 0 || p.Next != "" {
				t.Errorf("Members of %s = %+v, %v; want an empty page", tt.name, p, err)
			}
		}
	})
	t.Run("audiences are listed in id order, in pages, per tenant", func(t *testing.T) {
		s := newStore(t)
		var want []audience.Audience
		for _, id := range []string{"a3", "a1", "a4", "a2"} {
			if err := s.CreateAudience(ctx, acme, newAudience(id)); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"a1", "a2", "a3", "a4"} {
			want = append(want, newAudience(id))
		}
		if err := s.CreateAudience(ctx, other, newAudience("a0")); err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{1, 3, 4, 100} {
			t.Run(fmt.Sprintf("in pages of %d", limit), func(t *testing.T) {
				var got []audience.Audience
				cursor := ""
				for range 20 {
					page, next, err := s.ListAudiences(ctx, acme, cursor, limit)
					if err != nil {
						t.Fatal(err)
					}
					if len(page) > limit {
						t.Errorf("a page of %d audiences, over the limit of %d", len(page), limit)
					}
					got = append(got, page...)
					if cursor = next; cursor == "" {
						break
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("audiences listed (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("a cursor the list did not issue is invalid", func(t *testing.T) {
		s := setUp(t, "m1", "m2")
		if err := s.CreateAudience(ctx, acme, newAudience("a2")); err != nil {
			t.Fatal(err)
		}
		_, audiences, err := s.ListAudiences(ctx, acme, "", 1)
		if err != nil || audiences == "" {
			t.Fatalf("first page of audiences: next %q, %v; want a next page", audiences, err)
		}
		p, err := s.Members(ctx, acme, "a1", "", 1)
		if err != nil || p.Next == "" {
			t.Fatalf("first page of members = %+v, %v; want a next page", p, err)
		}
		listAudiences := func(cur string) error { _, _, err := s.ListAudiences(ctx, acme, cur, 10); return err }
		listMembers := func(cur string) error { _, err := s.Members(ctx, acme, "a1", cur, 10); return err }
		tests := []struct {
			name string
			list func(string) error
			cur  string
			want derrors.Kind
		}{
			{"the audience list's own cursor is followed", listAudiences, audiences, noError},
			{"the members list's own cursor is followed", listMembers, p.Next, noError},
			{"an audience cursor that is not base64 is invalid", listAudiences, "!!not-a-cursor", derrors.Invalid},
			{"a members cursor that is not base64 is invalid", listMembers, "!!not-a-cursor", derrors.Invalid},
			{"a members cursor on the audience list is invalid", listAudiences, p.Next, derrors.Invalid},
			{"an audience cursor on the members list is invalid", listMembers, audiences, derrors.Invalid},
		}
		for _, tt := range tests {
			wantKind(t, tt.name, tt.list(tt.cur), tt.want)
		}
	})
}
