package audience_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme   = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	globex = tenant.Tenant{Org: "globex", Sandbox: "prod"}
)

// key names an audience of a tenant in fakeStore.
type key struct {
	t  tenant.Tenant
	id string
}

// fakeStore keeps audiences in maps. Members are kept in the order they
// were added; a cursor is the index of the next member, so a page walk is
// stable while nothing is removed. fail makes the named method return its
// error; calls records what reached the store.
type fakeStore struct {
	audiences map[key]audience.Audience
	members   map[key][]audience.Member
	fail      map[string]error
	calls     []string
	// changed holds the members each AddMembers or RemoveMembers got.
	changed [][]audience.Member
}

var _ audience.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{audiences: map[key]audience.Audience{}, members: map[key][]audience.Member{}, fail: map[string]error{}}
}

func (s *fakeStore) record(format string, args ...any) {
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
}

func notFound(id string) error { return derrors.New(derrors.NotFound, "audience %q not found", id) }

func (s *fakeStore) CreateAudience(_ context.Context, t tenant.Tenant, a audience.Audience) error {
	s.record("CreateAudience(%s)", a.ID)
	if err := s.fail["CreateAudience"]; err != nil {
		return err
	}
	if _, ok := s.audiences[key{t, a.ID}]; ok {
		return derrors.New(derrors.Conflict, "audience %q exists", a.ID)
	}
	s.audiences[key{t, a.ID}] = a
	return nil
}

func (s *fakeStore) GetAudience(_ context.Context, t tenant.Tenant, id string) (audience.Audience, error) {
	s.record("GetAudience(%s)", id)
	if err := s.fail["GetAudience"]; err != nil {
		return audience.Audience{}, err
	}
	a, ok := s.audiences[key{t, id}]
	if !ok {
		return audience.Audience{}, notFound(id)
	}
	a.MemberCount = int64(len(s.members[key{t, id}]))
	return a, nil
}

func (s *fakeStore) ListAudiences(_ context.Context, t tenant.Tenant, cursor string, limit int) ([]audience.Audience, string, error) {
	s.record("ListAudiences(cursor=%q, limit=%d)", cursor, limit)
	if err := s.fail["ListAudiences"]; err != nil {
		return nil, "", err
	}
	var out []audience.Audience
	for k, a := range s.audiences {
		if k.t == t {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b audience.Audience) int { return strings.Compare(a.ID, b.ID) })
	return out, "", nil
}

func (s *fakeStore) DeleteAudience(_ context.Context, t tenant.Tenant, id string) error {
	s.record("DeleteAudience(%s)", id)
	if _, ok := s.audiences[key{t, id}]; !ok {
		return notFound(id)
	}
	delete(s.audiences, key{t, id})
	delete(s.members, key{t, id})
	return nil
}

func (s *fakeStore) AddMembers(_ context.Context, t tenant.Tenant, id string, ms []audience.Member) (int, error) {
	s.record("AddMembers(%s)", id)
	s.changed = append(s.changed, ms)
	if err := s.fail["AddMembers"]; err != nil {
		return 0, err
	}
	if _, ok := s.audiences[key{t, id}]; !ok {
		return 0, notFound(id)
	}
	added := 0
	for _, m := range ms {
		if !slices.Contains(s.members[key{t, id}], m) {
			s.members[key{t, id}] = append(s.members[key{t, id}], m)
			added++
		}
	}
	return added, nil
}

func (s *fakeStore) RemoveMembers(_ context.Context, t tenant.Tenant, id string, ms []audience.Member) (int, error) {
	s.record("RemoveMembers(%s)", id)
	s.changed = append(s.changed, ms)
	if err := s.fail["RemoveMembers"]; err != nil {
		return 0, err
	}
	if _, ok := s.audiences[key{t, id}]; !ok {
		return 0, notFound(id)
	}
	before := len(s.members[key{t, id}])
	s.members[key{t, id}] = slices.DeleteFunc(s.members[key{t, id}], func(m audience.Member) bool { return slices.Contains(ms, m) })
	return before - len(s.members[key{t, id}]), nil
}

func (s *fakeStore) Members(_ context.Context, t tenant.Tenant, id, cursor string, limit int) (audience.Page, error) {
	s.record("Members(%s, cursor=%q, limit=%d)", id, cursor, limit)
	if err := s.fail["Members"]; err != nil {
		return audience.Page{}, err
	}
	all := s.members[key{t, id}]
	start := 0
	if cursor != "" {
		if _, err := fmt.Sscanf(cursor, "at-%d", &start); err != nil || start > len(all) {
			return audience.Page{}, derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
	}
	end := min(start+limit, len(all))
	p := audience.Page{Members: slices.Clone(all[start:end])}
	if end < len(all) {
		p.Next = fmt.Sprintf("at-%d", end)
	}
	return p, nil
}

// fieldErrors returns the field errors of an Invalid error, failing t
// when err is anything else.
func fieldErrors(t *testing.T, err error) []derrors.FieldError {
	t.Helper()
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.Invalid {
		t.Fatalf("error = %v, want an Invalid error", err)
	}
	return de.Fields
}

// fieldNames returns the fields an Invalid error names, in order.
func fieldNames(t *testing.T, err error) []string {
	t.Helper()
	var out []string
	for _, f := range fieldErrors(t, err) {
		out = append(out, f.Field)
	}
	return out
}

func members(n int) []audience.Member {
	out := make([]audience.Member, n)
	for i := range out {
		out[i] = audience.Member{Namespace: "crmId", ID: fmt.Sprint(i)}
	}
	return out
}

func TestCreate(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	now := time.Date(2026, 3, 1, 13, 0, 0, 0, paris)
	utc := now.UTC()
	tests := []struct {
		name string
		in   audience.Input
		want audience.Audience
	}{
		{"a named audience is stored empty with the clock's time in UTC",
			audience.Input{Name: "VIP", Description: "Our best customers"},
			audience.Audience{ID: "aud-1", Name: "VIP", Description: "Our best customers", CreatedAt: utc, UpdatedAt: utc}},
		{"a name of 256 characters passes however many bytes they take",
			audience.Input{Name: strings.Repeat("é", 256)},
			audience.Audience{ID: "aud-1", Name: strings.Repeat("é", 256), CreatedAt: utc, UpdatedAt: utc}},
		{"a description of 4096 characters passes",
			audience.Input{Name: "n", Description: strings.Repeat("ü", 4096)},
			audience.Audience{ID: "aud-1", Name: "n", Description: strings.Repeat("ü", 4096), CreatedAt: utc, UpdatedAt: utc}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			svc := &audience.Service{Store: store, Now: func() time.Time { return now }, NewID: func() string { return "aud-1" }}
			got, err := svc.Create(context.Background(), acme, tt.in)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Create() mismatch (-want +got):\n%s", diff)
			}
			// cmp compares times with Equal, which ignores the zone.
			if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
				t.Errorf("Create() times are in %v and %v, want UTC", got.CreatedAt.Location(), got.UpdatedAt.Location())
			}
			if diff := cmp.Diff(tt.want, store.audiences[key{acme, "aud-1"}]); diff != "" {
				t.Errorf("stored audience mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateWithoutAnIDSourceMakesUUIDs(t *testing.T) {
	store := newFakeStore()
	svc := &audience.Service{Store: store}
	before := time.Now().UTC()
	a, err := svc.Create(context.Background(), acme, audience.Input{Name: "VIP"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := uuid.Parse(a.ID); err != nil {
		t.Errorf("Create().ID = %q, want a UUID: %v", a.ID, err)
	}
	if a.CreatedAt.Before(before) || a.CreatedAt.Location() != time.UTC {
		t.Errorf("Create().CreatedAt = %v, want the time now in UTC (after %v)", a.CreatedAt, before)
	}
	b, err := svc.Create(context.Background(), acme, audience.Input{Name: "VIP"})
	if err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if a.ID == b.ID {
		t.Errorf("two audiences got the same id %q", a.ID)
	}
}

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name string
		in   audience.Input
		want []derrors.FieldError
	}{
		{"a missing name is required", audience.Input{},
			[]derrors.FieldError{{Field: "name", Message: "is required"}}},
		{"a name of only spaces is required", audience.Input{Name: " \t\n"},
			[]derrors.FieldError{{Field: "name", Message: "is required"}}},
		{"a name of 257 characters is too long", audience.Input{Name: strings.Repeat("a", 257)},
			[]derrors.FieldError{{Field: "name", Message: "must be at most 256 characters"}}},
		{"a description of 4097 characters is too long", audience.Input{Name: "n", Description: strings.Repeat("a", 4097)},
			[]derrors.FieldError{{Field: "description", Message: "must be at most 4096 characters"}}},
		{"every wrong field is named at once", audience.Input{Description: strings.Repeat("a", 4097)},
			[]derrors.FieldError{{Field: "name", Message: "is required"}, {Field: "description", Message: "must be at most 4096 characters"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			_, err := (&audience.Service{Store: store}).Create(context.Background(), acme, tt.in)
			if diff := cmp.Diff(tt.want, fieldErrors(t, err)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if len(store.calls) != 0 {
				t.Errorf("an invalid audience reached the store: %v", store.calls)
			}
		})
	}
}

func TestCreateReportsTheStoresConflict(t *testing.T) {
	store := newFakeStore()
	svc := &audience.Service{Store: store, NewID: func() string { return "same" }}
	if _, err := svc.Create(context.Background(), acme, audience.Input{Name: "first"}); err != nil {
		t.Fatalf("first Create: %v", err)
	}
	_, err := svc.Create(context.Background(), acme, audience.Input{Name: "second"})
	if !derrors.Is(err, derrors.Conflict) {
		t.Errorf("Create(existing id) error = %v, want Conflict", err)
	}
	if got := store.audiences[key{acme, "same"}].Name; got != "first" {
		t.Errorf("stored audience is named %q, want the first one kept", got)
	}
}

func TestCreateWrapsAStoreFailure(t *testing.T) {
	store := newFakeStore()
	boom := errors.New("connection reset")
	store.fail["CreateAudience"] = boom
	_, err := (&audience.Service{Store: store}).Create(context.Background(), acme, audience.Input{Name: "VIP"})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "create audience: ") {
		t.Errorf("Create() error = %v, want %v wrapped with context", err, boom)
	}
	if k := derrors.KindOf(err); k != derrors.Internal {
		t.Errorf("Create() error kind = %v, want internal", k)
	}
}

func TestGetAndDelete(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := &audience.Service{Store: store, NewID: func() string { return "aud-1" }}
	created, err := svc.Create(ctx, acme, audience.Input{Name: "VIP"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Get(ctx, acme, "aud-1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("Get() mismatch (-want +got):\n%s", diff)
	}
	if _, err := svc.Get(ctx, globex, "aud-1"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Get(another tenant's audience) error = %v, want NotFound", err)
	}
	if err := svc.Delete(ctx, globex, "aud-1"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Delete(another tenant's audience) error = %v, want NotFound", err)
	}
	if err := svc.Delete(ctx, acme, "aud-1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := svc.Get(ctx, acme, "aud-1"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Get(deleted) error = %v, want NotFound", err)
	}
	if err := svc.Delete(ctx, acme, "aud-1"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Delete(deleted) error = %v, want NotFound", err)
	}
}

func TestListPageSize(t *testing.T) {
	tests := []struct {
		name      string
		limit     int
		wantCall  string
		wantField bool
	}{
		{"no limit asks the store for the default page", 0, `ListAudiences(cursor="c", limit=100)`, false},
		{"a limit of one is passed on", 1, `ListAudiences(cursor="c", limit=1)`, false},
		{"the largest page is passed on", audience.MaxPageSize, `ListAudiences(cursor="c", limit=1000)`, false},
		{"a negative limit is refused", -1, "", true},
		{"a page over the maximum is refused", audience.MaxPageSize + 1, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			_, _, err := (&audience.Service{Store: store}).List(context.Background(), acme, "c", tt.limit)
			if tt.wantField {
				want := []derrors.FieldError{{Field: "limit", Message: "must be 1 to 1000"}}
				if diff := cmp.Diff(want, fieldErrors(t, err)); diff != "" {
					t.Errorf("field errors (-want +got):\n%s", diff)
				}
				if len(store.calls) != 0 {
					t.Errorf("an invalid page size reached the store: %v", store.calls)
				}
				return
			}
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if diff := cmp.Diff([]string{tt.wantCall}, store.calls); diff != "" {
				t.Errorf("store calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListShowsOnlyTheTenantsAudiences(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	n := 0
	svc := &audience.Service{Store: store, NewID: func() string { n++; return fmt.Sprint("aud-", n) }}
	for _, tn := range []tenant.Tenant{acme, globex, acme} {
		if _, err := svc.Create(ctx, tn, audience.Input{Name: tn.Org}); err != nil {
			t.Fatal(err)
		}
	}
	got, next, err := svc.List(ctx, acme, "", 0)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	if diff := cmp.Diff([]string{"aud-1", "aud-3"}, ids); diff != "" {
		t.Errorf("listed audiences (-want +got):\n%s", diff)
	}
	if next != "" {
		t.Errorf("List() next = %q, want none", next)
	}
}

func TestAddAndRemoveMembers(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := &audience.Service{Store: store, NewID: func() string { return "aud-1" }}
	if _, err := svc.Create(ctx, acme, audience.Input{Name: "VIP"}); err != nil {
		t.Fatal(err)
	}
	jane := audience.Member{Namespace: "email", ID: "jane@example.com"}
	crm := audience.Member{Namespace: "crmId", ID: "42"}
	phone := audience.Member{Namespace: "phone", ID: "+15555550100"}

	steps := []struct {
		name        string
		remove      bool
		in          []audience.Member
		wantToStore []audience.Member
		want        audience.MembersResult
	}{
		{"new members are added and counted", false, []audience.Member{jane, crm},
			[]audience.Member{jane, crm}, audience.MembersResult{AudienceID: "aud-1", Added: 2, MemberCount: 2}},
		{"duplicates within a call reach the store once, in first-seen order", false, []audience.Member{phone, jane, phone, crm, phone},
			[]audience.Member{phone, jane, crm}, audience.MembersResult{AudienceID: "aud-1", Added: 1, MemberCount: 3}},
		{"members already present add nothing", false, []audience.Member{crm},
			[]audience.Member{crm}, audience.MembersResult{AudienceID: "aud-1", MemberCount: 3}},
		{"removing counts the members that were present", true, []audience.Member{jane, {Namespace: "crmId", ID: "absent"}, jane},
			[]audience.Member{jane, {Namespace: "crmId", ID: "absent"}}, audience.MembersResult{AudienceID: "aud-1", Removed: 1, MemberCount: 2}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			store.changed = nil
			var got audience.MembersResult
			var err error
			if st.remove {
				got, err = svc.RemoveMembers(ctx, acme, "aud-1", audience.MembersInput{Members: st.in})
			} else {
				got, err = svc.AddMembers(ctx, acme, "aud-1", audience.MembersInput{Members: st.in})
			}
			if err != nil {
				t.Fatalf("change members: %v", err)
			}
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([][]audience.Member{st.wantToStore}, store.changed); diff != "" {
				t.Errorf("members sent to the store (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChangingMembersOfAnUnknownAudienceIsNotFound(t *testing.T) {
	ctx := context.Background()
	svc := &audience.Service{Store: newFakeStore()}
	in := audience.MembersInput{Members: []audience.Member{{Namespace: "crmId", ID: "42"}}}
	if _, err := svc.AddMembers(ctx, acme, "nope", in); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("AddMembers(unknown audience) error = %v, want NotFound", err)
	}
	if _, err := svc.RemoveMembers(ctx, acme, "nope", in); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("RemoveMembers(unknown audience) error = %v, want NotFound", err)
	}
}

func TestAFailedRecountIsReported(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := &audience.Service{Store: store, NewID: func() string { return "aud-1" }}
	if _, err := svc.Create(ctx, acme, audience.Input{Name: "VIP"}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("throttled")
	store.fail["GetAudience"] = boom
	in := audience.MembersInput{Members: []audience.Member{{Namespace: "crmId", ID: "42"}}}
	if _, err := svc.AddMembers(ctx, acme, "aud-1", in); !errors.Is(err, boom) {
		t.Errorf("AddMembers() error = %v, want %v", err, boom)
	}
	if _, err := svc.RemoveMembers(ctx, acme, "aud-1", in); !errors.Is(err, boom) {
		t.Errorf("RemoveMembers() error = %v, want %v", err, boom)
	}
}

func TestMembersValidation(t *testing.T) {
	tooMany := members(audience.MaxMembersPerCall + 1)
	tests := []struct {
		name string
		in   []audience.Member
		want []derrors.FieldError
	}{
		{"a missing list is required", nil,
			[]derrors.FieldError{{Field: "members", Message: "is required"}}},
		{"an empty list is refused", []audience.Member{},
			[]derrors.FieldError{{Field: "members", Message: "must hold 1 to 10000 members, not 0"}}},
		{"more than ten thousand members are refused", tooMany,
			[]derrors.FieldError{{Field: "members", Message: "must hold 1 to 10000 members, not 10001"}}},
		{"a member without a namespace or id is named by its index",
			[]audience.Member{{Namespace: "crmId", ID: "1"}, {}, {Namespace: "crmId"}, {ID: "3"}},
			[]derrors.FieldError{
				{Field: "members[1].namespace", Message: "is required"}, {Field: "members[1].id", Message: "is required"},
				{Field: "members[2].id", Message: "is required"}, {Field: "members[3].namespace", Message: "is required"}}},
		{"a bad namespace is named by the member",
			[]audience.Member{{Namespace: "crm id", ID: "1"}},
			[]derrors.FieldError{{Field: "members[0]", Message: "namespace must be 1-64 of letters, digits, '_' and '-'"}}},
		{"an id in the email namespace must be an address",
			[]audience.Member{{Namespace: "crmId", ID: "1"}, {Namespace: "email", ID: "jane"}},
			[]derrors.FieldError{{Field: "members[1]", Message: "must be an email address in the email namespace"}}},
		{"an id with a control character is refused",
			[]audience.Member{{Namespace: "crmId", ID: "4\n2"}},
			[]derrors.FieldError{{Field: "members[0]", Message: "must not contain control characters"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			store.audiences[key{acme, "aud-1"}] = audience.Audience{ID: "aud-1"}
			svc := &audience.Service{Store: store}
			_, err := svc.AddMembers(context.Background(), acme, "aud-1", audience.MembersInput{Members: tt.in})
			if diff := cmp.Diff(tt.want, fieldErrors(t, err)); diff != "" {
				t.Errorf("AddMembers field errors (-want +got):\n%s", diff)
			}
			_, err = svc.RemoveMembers(context.Background(), acme, "aud-1", audience.MembersInput{Members: tt.in})
			if diff := cmp.Diff(tt.want, fieldErrors(t, err)); diff != "" {
				t.Errorf("RemoveMembers field errors (-want +got):\n%s", diff)
			}
			if len(store.calls) != 0 {
				t.Errorf("invalid members reached the store: %v", store.calls)
			}
		})
	}
}

func TestALongListOfBadMembersIsReportedInPart(t *testing.T) {
	ms := make([]audience.Member, 5000)
	for i := range ms {
		ms[i] = audience.Member{Namespace: "crmId"} // each lacks its id
	}
	_, err := (&audience.Service{Store: newFakeStore()}).AddMembers(context.Background(), acme, "aud-1", audience.MembersInput{Members: ms})
	got := fieldNames(t, err)
	if len(got) != 21 {
		t.Fatalf("AddMembers named %d fields, want 21: %v", len(got), got)
	}
	if got[0] != "members[0].id" || got[20] != "members[20].id" {
		t.Errorf("AddMembers named %s … %s, want members[0].id … members[20].id", got[0], got[20])
	}
}

func TestMembersPages(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := &audience.Service{Store: store, NewID: func() string { return "aud-1" }}
	if _, err := svc.Create(ctx, acme, audience.Input{Name: "VIP"}); err != nil {
		t.Fatal(err)
	}
	all := members(5)
	if _, err := svc.AddMembers(ctx, acme, "aud-1", audience.MembersInput{Members: all}); err != nil {
		t.Fatal(err)
	}
	store.calls = nil

	var got []audience.Member
	var nexts []string
	cursor := ""
	for range 10 {
		p, err := svc.Members(ctx, acme, "aud-1", cursor, 2)
		if err != nil {
			t.Fatalf("Members(cursor %q): %v", cursor, err)
		}
		got = append(got, p.Members...)
		nexts = append(nexts, p.Next)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("members read page by page (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"at-2", "at-4", ""}, nexts); diff != "" {
		t.Errorf("cursors (-want +got):\n%s", diff)
	}
	wantCalls := []string{
		"GetAudience(aud-1)", `Members(aud-1, cursor="", limit=2)`,
		"GetAudience(aud-1)", `Members(aud-1, cursor="at-2", limit=2)`,
		"GetAudience(aud-1)", `Members(aud-1, cursor="at-4", limit=2)`,
	}
	if diff := cmp.Diff(wantCalls, store.calls); diff != "" {
		t.Errorf("store calls (-want +got):\n%s", diff)
	}
}

func TestMembersErrors(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		cursor    string
		limit     int
		wantKind  derrors.Kind
		wantField string
		wantCalls []string
	}{
		{"no limit reads the default page", "aud-1", "", 0, -1, "",
			[]string{"GetAudience(aud-1)", `Members(aud-1, cursor="", limit=100)`}},
		{"a limit over the maximum is refused before any read", "aud-1", "", audience.MaxPageSize + 1, derrors.Invalid, "limit", nil},
		{"a negative limit is refused before any read", "aud-1", "", -5, derrors.Invalid, "limit", nil},
		{"an unknown audience has no members to page", "nope", "", 10, derrors.NotFound, "", []string{"GetAudience(nope)"}},
		{"the store's verdict on a cursor is passed on", "aud-1", "forged", 10, derrors.Invalid, "cursor",
			[]string{"GetAudience(aud-1)", `Members(aud-1, cursor="forged", limit=10)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			store.audiences[key{acme, "aud-1"}] = audience.Audience{ID: "aud-1"}
			_, err := (&audience.Service{Store: store}).Members(context.Background(), acme, tt.id, tt.cursor, tt.limit)
			switch {
			case tt.wantKind == -1:
				if err != nil {
					t.Errorf("Members() error = %v, want none", err)
				}
			case !derrors.Is(err, tt.wantKind):
				t.Errorf("Members() error = %v, want %v", err, tt.wantKind)
			case tt.wantField != "":
				if diff := cmp.Diff([]string{tt.wantField}, fieldNames(t, err)); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.wantCalls, store.calls); diff != "" {
				t.Errorf("store calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMemberIdentity(t *testing.T) {
	m := audience.Member{Namespace: "email", ID: "jane@example.com"}
	if got := m.Identity(); got.Namespace != "email" || got.ID != "jane@example.com" {
		t.Errorf("Identity() = %+v, want email/jane@example.com", got)
	}
}
