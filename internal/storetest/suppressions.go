package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

func supp(ch suppression.Channel, addr string, r suppression.Reason) suppression.Entry {
	return suppression.Entry{Channel: ch, Address: addr, Reason: r, CreatedAt: t0}
}

// Suppressions runs the suppression.Store contract; newStore returns a
// fresh, empty store.
func Suppressions(t *testing.T, newStore func(t *testing.T) suppression.Store) {
	ctx := context.Background()
	jane := supp(suppression.Email, "jane@example.com", suppression.Bounce)

	t.Run("a put entry is read back and a second put replaces it", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutSuppression(ctx, acme, jane); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSuppression(ctx, acme, suppression.Email, jane.Address)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(jane, got); diff != "" {
			t.Errorf("GetSuppression (-want +got):\n%s", diff)
		}
		manual := jane
		manual.Reason, manual.CreatedAt = suppression.Manual, t0.Add(time.Hour)
		if err := s.PutSuppression(ctx, acme, manual); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetSuppression(ctx, acme, suppression.Email, jane.Address)
		if diff := cmp.Diff(manual, got); diff != "" || err != nil {
			t.Errorf("GetSuppression after a second put (-want +got):\n%s (%v)", diff, err)
		}
	})
	t.Run("a batch read returns the addresses on the list, once each, of the tenant and channel only", func(t *testing.T) {
		s := newStore(t)
		bs, ok := s.(interface {
			GetSuppressions(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addrs []string) (map[string]suppression.Entry, error)
		})
		if !ok {
			t.Fatal("the store has no GetSuppressions")
		}
		john := supp(suppression.Email, "john@example.com", suppression.Complaint)
		for _, e := range []suppression.Entry{jane, john, supp(suppression.SMS, "+14155550100", suppression.Manual)} {
			if err := s.PutSuppression(ctx, acme, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutSuppression(ctx, other, supp(suppression.Email, "ann@example.com", suppression.Bounce)); err != nil {
			t.Fatal(err)
		}
		addrs := []string{jane.Address, "nobody@example.com", john.Address, jane.Address, "ann@example.com", "+14155550100"}
		for i := range 230 { // over BatchGetItem's 100 keys
			addrs = append(addrs, fmt.Sprintf("x%d@example.com", i))
		}
		got, err := bs.GetSuppressions(ctx, acme, suppression.Email, addrs)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]suppression.Entry{jane.Address: jane, john.Address: john}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetSuppressions (-want +got):\n%s", diff)
		}
		if got, err := bs.GetSuppressions(ctx, acme, suppression.Email, nil); err != nil || len(got) != 0 {
			t.Errorf("GetSuppressions(none) = %v, %v", got, err)
		}
	})
	t.Run("reads are scoped to the tenant and the channel", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutSuppression(ctx, acme, jane); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			get  func() error
		}{
			{"another tenant", func() error { _, err := s.GetSuppression(ctx, other, suppression.Email, jane.Address); return err }},
			{"another channel", func() error { _, err := s.GetSuppression(ctx, acme, suppression.SMS, jane.Address); return err }},
			{"another address", func() error { _, err := s.GetSuppression(ctx, acme, suppression.Email, "john@example.com"); return err }},
		}
		for _, tt := range tests {
			wantKind(t, "GetSuppression from "+tt.name, tt.get(), derrors.NotFound)
		}
	})
	t.Run("add creates an entry once and then returns the one kept", func(t *testing.T) {
		s := newStore(t)
		got, created, err := s.AddSuppression(ctx, acme, jane)
		if err != nil || !created {
			t.Fatalf("first AddSuppression = %v, %v; want created", created, err)
		}
		if diff := cmp.Diff(jane, got); diff != "" {
			t.Errorf("first AddSuppression (-want +got):\n%s", diff)
		}
		later := jane
		later.Reason, later.CreatedAt = suppression.Unsubscribe, t0.Add(time.Hour)
		got, created, err = s.AddSuppression(ctx, acme, later)
		if err != nil || created {
			t.Fatalf("second AddSuppression = %v, %v; want not created", created, err)
		}
		if diff := cmp.Diff(jane, got); diff != "" {
			t.Errorf("second AddSuppression returned (-want +got):\n%s", diff)
		}
		stored, err := s.GetSuppression(ctx, acme, suppression.Email, jane.Address)
		if diff := cmp.Diff(jane, stored); diff != "" || err != nil {
			t.Errorf("stored after a second add (-want +got):\n%s (%v)", diff, err)
		}
		if _, created, err := s.AddSuppression(ctx, other, later); err != nil || !created {
			t.Errorf("another tenant's AddSuppression = %v, %v; want created", created, err)
		}
	})
	t.Run("delete removes an entry once", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutSuppression(ctx, acme, jane); err != nil {
			t.Fatal(err)
		}
		wantKind(t, "another tenant's DeleteSuppression", s.DeleteSuppression(ctx, other, suppression.Email, jane.Address), derrors.NotFound)
		wantKind(t, "DeleteSuppression", s.DeleteSuppression(ctx, acme, suppression.Email, jane.Address), noError)
		_, err := s.GetSuppression(ctx, acme, suppression.Email, jane.Address)
		wantKind(t, "GetSuppression after delete", err, derrors.NotFound)
		wantKind(t, "DeleteSuppression twice", s.DeleteSuppression(ctx, acme, suppression.Email, jane.Address), derrors.NotFound)
	})
	t.Run("lists are in address order, filtered by channel, paged without loss", func(t *testing.T) {
		s := newStore(t)
		var emails []string
		for i := range 5 {
			addr := fmt.Sprintf("u%d@example.com", 4-i) // stored out of order
			emails = append([]string{addr}, emails...)
			if err := s.PutSuppression(ctx, acme, supp(suppression.Email, addr, suppression.Bounce)); err != nil {
				t.Fatal(err)
			}
		}
		for _, addr := range []string{"+14155550101", "+14155550100"} {
			if err := s.PutSuppression(ctx, acme, supp(suppression.SMS, addr, suppression.Manual)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutSuppression(ctx, other, supp(suppression.Email, "x@example.com", suppression.Manual)); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name  string
			ch    suppression.Channel
			limit int
			want  []string
		}{
			{"every channel in one page", "", 100, append(append([]string{}, emails...), "+14155550100", "+14155550101")},
			{"every channel in pages of three", "", 3, append(append([]string{}, emails...), "+14155550100", "+14155550101")},
			{"email in pages of two", suppression.Email, 2, emails},
			{"email in pages of five (an exact fit)", suppression.Email, 5, emails},
			{"sms in one page", suppression.SMS, 10, []string{"+14155550100", "+14155550101"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got []string
				cursor := ""
				for range 10 {
					p, err := s.ListSuppressions(ctx, acme, tt.ch, tt.limit, cursor)
					if err != nil {
						t.Fatal(err)
					}
					if len(p.Items) > tt.limit {
						t.Errorf("a page of %d items, over the limit of %d", len(p.Items), tt.limit)
					}
					for _, e := range p.Items {
						got = append(got, e.Address)
					}
					if cursor = p.Next; cursor == "" {
						break
					}
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("addresses listed (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("an empty list has no items and no next page", func(t *testing.T) {
		s := newStore(t)
		p, err := s.ListSuppressions(ctx, acme, suppression.Email, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 0 || p.Next != "" {
			t.Errorf("ListSuppressions = %+v, want an empty page", p)
		}
	})
	t.Run("a cursor the list did not issue is invalid", func(t *testing.T) {
		s := newStore(t)
		for _, e := range []suppression.Entry{jane, supp(suppression.SMS, "+14155550100", suppression.Manual), supp(suppression.SMS, "+14155550101", suppression.Manual)} {
			if err := s.PutSuppression(ctx, acme, e); err != nil {
				t.Fatal(err)
			}
		}
		p, err := s.ListSuppressions(ctx, acme, suppression.SMS, 1, "")
		if err != nil || p.Next == "" {
			t.Fatalf("first sms page = %+v, %v; want a next page", p, err)
		}
		tests := []struct {
			name, cursor string
			ch           suppression.Channel
		}{
			{"not base64", "!!not-a-cursor", ""},
			{"a cursor of the sms list on the email list", p.Next, suppression.Email},
		}
		for _, tt := range tests {
			_, err := s.ListSuppressions(ctx, acme, tt.ch, 10, tt.cursor)
			wantKind(t, "ListSuppressions with "+tt.name, err, derrors.Invalid)
		}
	})
}
