package suppression_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme   = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	globex = tenant.Tenant{Org: "globex", Sandbox: "prod"}
)

type key struct {
	t    tenant.Tenant
	ch   suppression.Channel
	addr string
}

// fakeStore keeps entries in a map. err, when set, is what every method
// returns; calls records what reached the store.
type fakeStore struct {
	entries map[key]suppression.Entry
	err     error
	calls   []string
	// page is what ListSuppressions answers.
	page suppression.Page
}

var _ suppression.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return &fakeStore{entries: map[key]suppression.Entry{}} }

func (s *fakeStore) record(format string, args ...any) {
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
}

func (s *fakeStore) PutSuppression(_ context.Context, t tenant.Tenant, e suppression.Entry) error {
	s.record("PutSuppression(%s, %s, %s)", e.Channel, e.Address, e.Reason)
	if s.err != nil {
		return s.err
	}
	s.entries[key{t, e.Channel, e.Address}] = e
	return nil
}

func (s *fakeStore) AddSuppression(_ context.Context, t tenant.Tenant, e suppression.Entry) (suppression.Entry, bool, error) {
	s.record("AddSuppression(%s, %s, %s)", e.Channel, e.Address, e.Reason)
	if s.err != nil {
		return suppression.Entry{}, false, s.err
	}
	if old, ok := s.entries[key{t, e.Channel, e.Address}]; ok {
		return old, false, nil
	}
	s.entries[key{t, e.Channel, e.Address}] = e
	return e, true, nil
}

func (s *fakeStore) GetSuppression(_ context.Context, t tenant.Tenant, ch suppression.Channel, addr string) (suppression.Entry, error) {
	s.record("GetSuppression(%s, %s)", ch, addr)
	if s.err != nil {
		return suppression.Entry{}, s.err
	}
	e, ok := s.entries[key{t, ch, addr}]
	if !ok {
		return suppression.Entry{}, derrors.New(derrors.NotFound, "not suppressed")
	}
	return e, nil
}

func (s *fakeStore) DeleteSuppression(_ context.Context, t tenant.Tenant, ch suppression.Channel, addr string) error {
	s.record("DeleteSuppression(%s, %s)", ch, addr)
	if s.err != nil {
		return s.err
	}
	if _, ok := s.entries[key{t, ch, addr}]; !ok {
		return derrors.New(derrors.NotFound, "not suppressed")
	}
	delete(s.entries, key{t, ch, addr})
	return nil
}

func (s *fakeStore) ListSuppressions(_ context.Context, _ tenant.Tenant, ch suppression.Channel, limit int, cursor string) (suppression.Page, error) {
	s.record("ListSuppressions(%q, %d, %q)", ch, limit, cursor)
	return s.page, s.err
}

func fieldErrors(t *testing.T, err error) []derrors.FieldError {
	t.Helper()
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.Invalid {
		t.Fatalf("error = %v, want an Invalid error", err)
	}
	return de.Fields
}

func TestBlocks(t *testing.T) {
	tests := []struct {
		name             string
		reason           suppression.Reason
		marketing        bool
		sendToSuppressed bool
		want             bool
	}{
		{"marketing is stopped by a bounce", suppression.Bounce, true, false, true},
		{"marketing is stopped by a complaint", suppression.Complaint, true, false, true},
		{"marketing is stopped by an unsubscribe", suppression.Unsubscribe, true, false, true},
		{"marketing is stopped by a manual entry", suppression.Manual, true, false, true},
		{"marketing is stopped even when sending to suppressed addresses", suppression.Unsubscribe, true, true, true},
		{"transactional is stopped by a bounce", suppression.Bounce, false, false, true},
		{"transactional is stopped by a complaint", suppression.Complaint, false, false, true},
		{"transactional is stopped by a manual entry", suppression.Manual, false, false, true},
		{"transactional is not stopped by an unsubscribe", suppression.Unsubscribe, false, false, false},
		{"transactional sending to suppressed addresses ignores a bounce", suppression.Bounce, false, true, false},
		{"transactional sending to suppressed addresses ignores a complaint", suppression.Complaint, false, true, false},
		{"transactional sending to suppressed addresses ignores a manual entry", suppression.Manual, false, true, false},
		{"transactional sending to suppressed addresses ignores an unsubscribe", suppression.Unsubscribe, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := suppression.Blocks(tt.reason, tt.marketing, tt.sendToSuppressed); got != tt.want {
				t.Errorf("Blocks(%s, marketing=%t, sendToSuppressed=%t) = %t, want %t", tt.reason, tt.marketing, tt.sendToSuppressed, got, tt.want)
			}
		})
	}
}

func TestReasonValid(t *testing.T) {
	for r, want := range map[suppression.Reason]bool{
		suppression.Bounce: true, suppression.Complaint: true, suppression.Unsubscribe: true, suppression.Manual: true,
		"": false, "Bounce": false, "spam": false,
	} {
		if got := r.Valid(); got != want {
			t.Errorf("Reason(%q).Valid() = %t, want %t", r, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		ch      suppression.Channel
		addr    string
		want    string
		wantErr []derrors.FieldError
	}{
		{"an email address is trimmed and lower-cased", suppression.Email, "  Jane.Doe@Example.COM ", "jane.doe@example.com", nil},
		{"an E.164 number is kept as it is", suppression.SMS, "+15555550100", "+15555550100", nil},
		{"something that is not an email address is named by the field given", suppression.Email, "jane", "",
			[]derrors.FieldError{{Field: "to", Message: "must be an email address"}}},
		{"a phone number without its plus is refused", suppression.SMS, "15555550100", "",
			[]derrors.FieldError{{Field: "to", Message: "must be an E.164 phone number"}}},
		{"an email address is not a phone number", suppression.SMS, "jane@example.com", "",
			[]derrors.FieldError{{Field: "to", Message: "must be an E.164 phone number"}}},
		{"an unknown channel names the channel, not the address", "push", "token", "",
			[]derrors.FieldError{{Field: "channel", Message: "must be email or sms"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := suppression.Normalize(tt.ch, tt.addr, "to")
			if tt.wantErr != nil {
				if diff := cmp.Diff(tt.wantErr, fieldErrors(t, err)); diff != "" {
					t.Errorf("field errors (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestPut(t *testing.T) {
	now := time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name      string
		ch        suppression.Channel
		addr      string
		in        suppression.Input
		want      suppression.Entry
		wantError []derrors.FieldError
	}{
		{"an address without a reason is suppressed manually", suppression.Email, "Jane@Example.com", suppression.Input{},
			suppression.Entry{Channel: suppression.Email, Address: "jane@example.com", Reason: suppression.Manual, CreatedAt: now.UTC()}, nil},
		{"a reason given is kept", suppression.SMS, "+15555550100", suppression.Input{Reason: suppression.Complaint},
			suppression.Entry{Channel: suppression.SMS, Address: "+15555550100", Reason: suppression.Complaint, CreatedAt: now.UTC()}, nil},
		{"an unknown reason is refused", suppression.Email, "jane@example.com", suppression.Input{Reason: "spam"}, suppression.Entry{},
			[]derrors.FieldError{{Field: "reason", Message: "must be bounce, complaint, unsubscribe or manual"}}},
		{"a bad address is named", suppression.Email, "jane", suppression.Input{Reason: suppression.Bounce}, suppression.Entry{},
			[]derrors.FieldError{{Field: "address", Message: "must be an email address"}}},
		{"a channel without a list is refused", "push", "tok", suppression.Input{}, suppression.Entry{},
			[]derrors.FieldError{{Field: "channel", Message: "must be email or sms"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			svc := &suppression.Service{Store: store, Now: func() time.Time { return now }}
			got, err := svc.Put(context.Background(), acme, tt.ch, tt.addr, tt.in)
			if tt.wantError != nil {
				if diff := cmp.Diff(tt.wantError, fieldErrors(t, err)); diff != "" {
					t.Errorf("field errors (-want +got):\n%s", diff)
				}
				if len(store.calls) != 0 {
					t.Errorf("an invalid suppression reached the store: %v", store.calls)
				}
				return
			}
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Put() mismatch (-want +got):\n%s", diff)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("Put().CreatedAt is in %v, want UTC", got.CreatedAt.Location())
			}
			if diff := cmp.Diff(tt.want, store.entries[key{acme, tt.want.Channel, tt.want.Address}]); diff != "" {
				t.Errorf("stored entry mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutReplacesTheReason(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := &suppression.Service{Store: store}
	for _, r := range []suppression.Reason{suppression.Unsubscribe, suppression.Bounce} {
		if _, err := svc.Put(ctx, acme, suppression.Email, "jane@example.com", suppression.Input{Reason: r}); err != nil {
			t.Fatalf("Put(%s): %v", r, err)
		}
	}
	got, err := svc.Get(ctx, acme, suppression.Email, "jane@example.com")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Reason != suppression.Bounce {
		t.Errorf("Get().Reason = %s, want bounce (the later Put)", got.Reason)
	}
}

func TestUnsubscribeKeepsAnExistingEntry(t *testing.T) {
	ctx := context.Background()
	then := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := then.Add(24 * time.Hour)
	tests := []struct {
		name     string
		existing *suppression.Entry
		addr     string
		want     suppression.Entry
	}{
		{"a new address is suppressed as an unsubscribe, normalized", nil, "Jane@Example.com",
			suppression.Entry{Channel: suppression.Email, Address: "jane@example.com", Reason: suppression.Unsubscribe, CreatedAt: now}},
		{"a bounced address keeps its bounce and its date", &suppression.Entry{Channel: suppression.Email, Address: "jane@example.com",
			Reason: suppression.Bounce, CreatedAt: then}, "JANE@example.com",
			suppression.Entry{Channel: suppression.Email, Address: "jane@example.com", Reason: suppression.Bounce, CreatedAt: then}},
		{"a second unsubscribe keeps the first one's date", &suppression.Entry{Channel: suppression.Email, Address: "jane@example.com",
			Reason: suppression.Unsubscribe, CreatedAt: then}, "jane@example.com",
			suppression.Entry{Channel: suppression.Email, Address: "jane@example.com", Reason: suppression.Unsubscribe, CreatedAt: then}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			if tt.existing != nil {
				store.entries[key{acme, tt.existing.Channel, tt.existing.Address}] = *tt.existing
			}
			svc := &suppression.Service{Store: store, Now: func() time.Time { return now }}
			got, err := svc.Unsubscribe(ctx, acme, suppression.Email, tt.addr)
			if err != nil {
				t.Fatalf("Unsubscribe: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Unsubscribe() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, store.entries[key{acme, suppression.Email, "jane@example.com"}]); diff != "" {
				t.Errorf("stored entry mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnsubscribeRefusesABadAddress(t *testing.T) {
	store := newFakeStore()
	_, err := (&suppression.Service{Store: store}).Unsubscribe(context.Background(), acme, suppression.SMS, "555-0100")
	if diff := cmp.Diff([]derrors.FieldError{{Field: "address", Message: "must be an E.164 phone number"}}, fieldErrors(t, err)); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
	if len(store.calls) != 0 {
		t.Errorf("an invalid address reached the store: %v", store.calls)
	}
}

func TestGetAndDeleteNormalizeTheAddress(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	svc := &suppression.Service{Store: store}
	if _, err := svc.Put(ctx, acme, suppression.Email, "jane@example.com", suppression.Input{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, acme, suppression.Email, " JANE@Example.com"); err != nil {
		t.Errorf("Get(another spelling) error = %v, want the entry", err)
	}
	if _, err := svc.Get(ctx, globex, suppression.Email, "jane@example.com"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Get(another tenant) error = %v, want NotFound", err)
	}
	if _, err := svc.Get(ctx, acme, suppression.SMS, "jane@example.com"); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("Get(an address on the wrong channel) error = %v, want Invalid", err)
	}
	if err := svc.Delete(ctx, acme, suppression.Email, "not-an-address"); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("Delete(not an address) error = %v, want Invalid", err)
	}
	if err := svc.Delete(ctx, acme, suppression.Email, "Jane@EXAMPLE.com"); err != nil {
		t.Fatalf("Delete(another spelling): %v", err)
	}
	if _, err := svc.Get(ctx, acme, suppression.Email, "jane@example.com"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Get(lifted) error = %v, want NotFound", err)
	}
	if err := svc.Delete(ctx, acme, suppression.Email, "jane@example.com"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Delete(lifted) error = %v, want NotFound", err)
	}
	want := []string{
		"PutSuppression(email, jane@example.com, manual)",
		"GetSuppression(email, jane@example.com)",
		"GetSuppression(email, jane@example.com)",
		"DeleteSuppression(email, jane@example.com)",
		"GetSuppression(email, jane@example.com)",
		"DeleteSuppression(email, jane@example.com)",
	}
	if diff := cmp.Diff(want, store.calls); diff != "" {
		t.Errorf("store calls (-want +got):\n%s", diff)
	}
}

func TestStoreFailuresAreWrapped(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("connection reset")
	tests := []struct {
		name   string
		call   func(*suppression.Service) error
		prefix string
	}{
		{"a failed put says it was suppressing", func(s *suppression.Service) error {
			_, err := s.Put(ctx, acme, suppression.Email, "jane@example.com", suppression.Input{})
			return err
		}, "suppress: "},
		{"a failed unsubscribe says so", func(s *suppression.Service) error {
			_, err := s.Unsubscribe(ctx, acme, suppression.Email, "jane@example.com")
			return err
		}, "unsubscribe: "},
		{"a failed list says so", func(s *suppression.Service) error {
			_, err := s.List(ctx, acme, "", 0, "")
			return err
		}, "list suppressions: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			store.err = boom
			err := tt.call(&suppression.Service{Store: store})
			if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), tt.prefix) {
				t.Errorf("error = %v, want %v wrapped as %q…", err, boom, tt.prefix)
			}
		})
	}
	t.Run("a kind the store returns is kept through the wrapping", func(t *testing.T) {
		store := newFakeStore()
		store.err = derrors.New(derrors.Throttled, "slow down")
		_, err := (&suppression.Service{Store: store}).Put(ctx, acme, suppression.Email, "jane@example.com", suppression.Input{})
		if !derrors.Is(err, derrors.Throttled) {
			t.Errorf("Put() error = %v, want Throttled", err)
		}
	})
}

func TestList(t *testing.T) {
	cursor := base64.RawURLEncoding.EncodeToString([]byte("email#jane@example.com"))
	entries := []suppression.Entry{{Channel: suppression.Email, Address: "a@example.com", Reason: suppression.Bounce}}
	tests := []struct {
		name      string
		ch        suppression.Channel
		limit     int
		cursor    string
		stored    suppression.Page
		want      suppression.Page
		wantCall  string
		wantError []derrors.FieldError
	}{
		{"no limit asks for a hundred across channels", "", 0, "", suppression.Page{Items: entries, Next: "n"},
			suppression.Page{Items: entries, Next: "n"}, `ListSuppressions("", 100, "")`, nil},
		{"a channel, limit and cursor are passed on", suppression.SMS, suppression.MaxPage, cursor, suppression.Page{Items: entries},
			suppression.Page{Items: entries}, fmt.Sprintf(`ListSuppressions("sms", 1000, %q)`, cursor), nil},
		{"an empty page has an empty list, not null", suppression.Email, 1, "", suppression.Page{},
			suppression.Page{Items: []suppression.Entry{}}, `ListSuppressions("email", 1, "")`, nil},
		{"an unknown channel is refused", "push", 10, "", suppression.Page{}, suppression.Page{}, "",
			[]derrors.FieldError{{Field: "channel", Message: "must be email or sms"}}},
		{"a negative limit is refused", "", -1, "", suppression.Page{}, suppression.Page{}, "",
			[]derrors.FieldError{{Field: "limit", Message: "must be 1 to 1000"}}},
		{"a limit over the maximum is refused", "", suppression.MaxPage + 1, "", suppression.Page{}, suppression.Page{}, "",
			[]derrors.FieldError{{Field: "limit", Message: "must be 1 to 1000"}}},
		{"a cursor that is not base64url is refused", "", 0, "a+b/c==", suppression.Page{}, suppression.Page{}, "",
			[]derrors.FieldError{{Field: "cursor", Message: "is not a cursor this API returned"}}},
		{"every wrong parameter is named at once", "fax", 5000, "!", suppression.Page{}, suppression.Page{}, "",
			[]derrors.FieldError{{Field: "channel", Message: "must be email or sms"}, {Field: "limit", Message: "must be 1 to 1000"},
				{Field: "cursor", Message: "is not a cursor this API returned"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			store.page = tt.stored
			got, err := (&suppression.Service{Store: store}).List(context.Background(), acme, tt.ch, tt.limit, tt.cursor)
			if tt.wantError != nil {
				if diff := cmp.Diff(tt.wantError, fieldErrors(t, err)); diff != "" {
					t.Errorf("field errors (-want +got):\n%s", diff)
				}
				if len(store.calls) != 0 {
					t.Errorf("an invalid list reached the store: %v", store.calls)
				}
				return
			}
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("List() mismatch (-want +got):\n%s", diff)
			}
			if got.Items == nil {
				t.Error("List().Items = nil, want a list (the API shows [])")
			}
			if diff := cmp.Diff([]string{tt.wantCall}, store.calls); diff != "" {
				t.Errorf("store calls (-want +got):\n%s", diff)
			}
		})
	}
}

// The cursor check must accept every cursor the stores make: the last
// sort key, base64url without padding.
func TestListAcceptsEveryCursorAStoreMakes(t *testing.T) {
	for _, last := range []string{"email#a@b.co", "sms#+15555550100", "email#o'brien+tag@example.com", "email#ü@example.com"} {
		c := base64.RawURLEncoding.EncodeToString([]byte(last))
		store := newFakeStore()
		if _, err := (&suppression.Service{Store: store}).List(context.Background(), acme, "", 10, c); err != nil {
			t.Errorf("List(cursor of %q) error = %v, want none", last, err)
		}
		if !slices.Equal(store.calls, []string{fmt.Sprintf(`ListSuppressions("", 10, %q)`, c)}) {
			t.Errorf("List(cursor of %q) store calls = %v", last, store.calls)
		}
	}
}
