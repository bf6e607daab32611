package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/webhook"
)

func hookConfig() webhook.Config {
	return webhook.Config{Name: "ops", URL: "https://hooks.acme.example/herald", Channels: []string{"email", "sms"},
		Headers: map[string]string{"X-Api-Key": "k-1"}, Secret: "0123456789abcdef0123", CreatedAt: t0, UpdatedAt: t0}
}

func hookDelivery(id string, created time.Time) webhook.Delivery {
	return webhook.Delivery{EventID: id, Channel: "email", EventTimestamp: t0, Status: webhook.Pending, CreatedAt: created,
		WindowStart: created, Message: []byte(`{"id":"` + id + `"}`), ExpiresAt: created.Add(webhook.DeliveryTTL).Truncate(time.Second)}
}

// Webhooks runs the webhook.Store contract; newStore returns a fresh,
// empty store.
func Webhooks(t *testing.T, newStore func(t *testing.T) webhook.Store) {
	ctx := context.Background()
	t.Run("a webhook is created once per tenant, read, replaced and deleted", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetWebhook(ctx, acme)
		wantKind(t, "GetWebhook before create", err, derrors.NotFound)
		wantKind(t, "ReplaceWebhook before create", s.ReplaceWebhook(ctx, acme, hookConfig()), derrors.NotFound)
		wantKind(t, "CreateWebhook", s.CreateWebhook(ctx, acme, hookConfig()), noError)
		wantKind(t, "CreateWebhook again", s.CreateWebhook(ctx, acme, hookConfig()), derrors.Conflict)
		got, err := s.GetWebhook(ctx, acme)
		if diff := cmp.Diff(hookConfig(), got); diff != "" || err != nil {
			t.Errorf("GetWebhook (-want +got):\n%s (%v)", diff, err)
		}
		_, err = s.GetWebhook(ctx, other)
		wantKind(t, "GetWebhook of another tenant", err, derrors.NotFound)
		changed := hookConfig()
		changed.Channels, changed.Headers, changed.UpdatedAt = []string{"push"}, nil, t0.Add(time.Hour)
		wantKind(t, "ReplaceWebhook", s.ReplaceWebhook(ctx, acme, changed), noError)
		got, err = s.GetWebhook(ctx, acme)
		if diff := cmp.Diff(changed, got); diff != "" || err != nil {
			t.Errorf("GetWebhook after replace (-want +got):\n%s (%v)", diff, err)
		}
		wantKind(t, "DeleteWebhook", s.DeleteWebhook(ctx, acme), noError)
		wantKind(t, "DeleteWebhook again", s.DeleteWebhook(ctx, acme), derrors.NotFound)
		_, err = s.GetWebhook(ctx, acme)
		wantKind(t, "GetWebhook after delete", err, derrors.NotFound)
	})
	t.Run("a delivery is claimed by one attempt at a time and never after it is final", func(t *testing.T) {
		s := newStore(t)
		d := hookDelivery("ev-1", t0)
		lease := t0.Add(15 * time.Second)
		got, claimed, err := s.ClaimDelivery(ctx, acme, d, t0, lease)
		if err != nil || !claimed {
			t.Fatalf("first ClaimDelivery = %v, %v; want claimed", claimed, err)
		}
		want := d
		want.LeaseUntil = lease
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("claimed delivery (-want +got):\n%s", diff)
		}
		if _, claimed, err := s.ClaimDelivery(ctx, acme, hookDelivery("ev-1", t0.Add(time.Second)), t0.Add(time.Second), lease.Add(time.Second)); err != nil || claimed {
			t.Errorf("ClaimDelivery during the lease = %v, %v; want not claimed", claimed, err)
		}
		if _, claimed, err := s.ClaimDelivery(ctx, other, hookDelivery("ev-1", t0), t0, lease); err != nil || !claimed {
			t.Errorf("ClaimDelivery of another tenant's same event id = %v, %v; want claimed", claimed, err)
		}
		at := t0.Add(2 * time.Second)
		failed := got
		failed.Status, failed.Attempts, failed.LastStatusCode, failed.LastError, failed.LastAttemptAt, failed.LeaseUntil = webhook.Retrying, 1, 503, "http_status", &at, time.Time{}
		wantKind(t, "SaveDelivery", s.SaveDelivery(ctx, acme, failed), noError)
		got, claimed, err = s.ClaimDelivery(ctx, acme, hookDelivery("ev-1", t0.Add(time.Minute)), t0.Add(time.Minute), t0.Add(time.Minute+15*time.Second))
		if err != nil || !claimed {
			t.Fatalf("ClaimDelivery after a failed attempt = %v, %v; want claimed", claimed, err)
		}
		want = failed
		want.LeaseUntil = t0.Add(time.Minute + 15*time.Second)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reclaimed delivery keeps the record (-want +got):\n%s", diff)
		}
		for _, final := range []webhook.DeliveryStatus{webhook.Delivered, webhook.Skipped, webhook.Failed} {
			got.Status, got.LeaseUntil = final, time.Time{}
			wantKind(t, "SaveDelivery "+string(final), s.SaveDelivery(ctx, acme, got), noError)
			cur, claimed, err := s.ClaimDelivery(ctx, acme, hookDelivery("ev-1", t0.Add(time.Hour)), t0.Add(time.Hour), t0.Add(time.Hour+time.Minute))
			if err != nil || claimed || cur.Status != final {
				t.Errorf("ClaimDelivery of a %s delivery = %s, %v, %v; want the record, not claimed", final, cur.Status, claimed, err)
			}
		}
		wantKind(t, "SaveDelivery of an unknown event", s.SaveDelivery(ctx, acme, hookDelivery("ev-404", t0)), derrors.NotFound)
		_, err = s.GetDelivery(ctx, acme, "ev-404")
		wantKind(t, "GetDelivery of an unknown event", err, derrors.NotFound)
	})
	t.Run("deliveries are listed newest first in pages", func(t *testing.T) {
		s := newStore(t)
		for i, id := range []string{"ev-a", "ev-b", "ev-c", "ev-d", "ev-e"} {
			if _, _, err := s.ClaimDelivery(ctx, acme, hookDelivery(id, t0.Add(time.Duration(i)*time.Minute)), t0, t0); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.ClaimDelivery(ctx, other, hookDelivery("ev-x", t0), t0, t0); err != nil {
			t.Fatal(err)
		}
		var ids []string
		cursor := ""
		for range 5 {
			p, err := s.ListDeliveries(ctx, acme, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range p.Items {
				ids = append(ids, d.EventID)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if diff := cmp.Diff([]string{"ev-e", "ev-d", "ev-c", "ev-b", "ev-a"}, ids); diff != "" {
			t.Errorf("ListDeliveries (-want +got):\n%s", diff)
		}
		_, err := s.ListDeliveries(ctx, acme, 2, "bm90LWEtY3Vyc29y")
		wantKind(t, "ListDeliveries with a foreign cursor", err, derrors.Invalid)
	})
}
