package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/tenant"
)

var acme = tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "prod"}

func job(id string, values render.Object) delivery.Job {
	return delivery.Job{Tenant: acme, ExecutionID: id, CampaignID: "c1", Version: 1, Channel: campaign.Email, Ledger: delivery.LedgerV2,
		Recipients: []delivery.Recipient{{Type: "external", Namespace: "email", UserID: "a@example.com"}}, Context: values}
}

func TestQueueRecordsJobsItWouldAccept(t *testing.T) {
	ctx := context.Background()
	errDown := errors.New("queue down")
	big := render.MustParseObject(`{"blob":"` + strings.Repeat("x", delivery.MaxJobSize) + `"}`)
	tests := []struct {
		name    string
		err     error // the queue's Err
		jobs    []delivery.Job
		wantErr bool
		want    []string // execution ids recorded
	}{
		{name: "jobs are recorded in order", jobs: []delivery.Job{job("e1", render.Object{}), job("e2", render.Object{})}, want: []string{"e0", "e1", "e2"}},
		{name: "the queue's error is returned and nothing is recorded", err: errDown, jobs: []delivery.Job{job("e1", render.Object{})}, wantErr: true, want: []string{"e0"}},
		{name: "a job over the queue's limit refuses the whole batch", jobs: []delivery.Job{job("e1", render.Object{}), job("e2", big)}, wantErr: true, want: []string{"e0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &memory.Queue{}
			if err := q.Enqueue(ctx, []delivery.Job{job("e0", render.Object{})}); err != nil {
				t.Fatal(err)
			}
			before := q.Fingerprint()
			q.Err = tt.err
			err := q.Enqueue(ctx, tt.jobs)
			if (err != nil) != tt.wantErr {
				t.Errorf("Enqueue = %v, want an error: %v", err, tt.wantErr)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Enqueue = %v, want the queue's error", err)
			}
			var got []string
			for _, j := range q.Jobs() {
				got = append(got, j.ExecutionID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("jobs recorded (-want +got):\n%s", diff)
			}
			if changed := q.Fingerprint() != before; changed != !tt.wantErr {
				t.Errorf("fingerprint changed: %v, want %v", changed, !tt.wantErr)
			}
		})
	}
	t.Run("reset forgets the jobs, and callers get copies", func(t *testing.T) {
		q := &memory.Queue{}
		if err := q.Enqueue(ctx, []delivery.Job{job("e1", render.Object{})}); err != nil {
			t.Fatal(err)
		}
		q.Jobs()[0].ExecutionID = "changed"
		if got := q.Jobs()[0].ExecutionID; got != "e1" {
			t.Errorf("job after a caller changed its copy = %q, want e1", got)
		}
		q.Reset()
		if got := q.Jobs(); len(got) != 0 {
			t.Errorf("Jobs after Reset = %v, want none", got)
		}
	})
}

func TestMailerAndSMSSenderRecordWhatTheySend(t *testing.T) {
	ctx := context.Background()
	errBounce := errors.New("bounce")
	t.Run("the mailer numbers messages and fails those Fail picks", func(t *testing.T) {
		m := &memory.Mailer{Fail: func(e delivery.Email) error {
			if e.To == "bad@example.com" {
				return errBounce
			}
			return nil
		}}
		for _, tt := range []struct {
			to, id string
			err    error
		}{{"a@example.com", "msg-1", nil}, {"bad@example.com", "", errBounce}, {"b@example.com", "msg-2", nil}} {
			id, err := m.SendEmail(ctx, delivery.Email{To: tt.to, Subject: "Hi"})
			if id != tt.id || !errors.Is(err, tt.err) {
				t.Errorf("SendEmail(%s) = %q, %v; want %q, %v", tt.to, id, err, tt.id, tt.err)
			}
		}
		want := []delivery.Email{{To: "a@example.com", Subject: "Hi"}, {To: "b@example.com", Subject: "Hi"}}
		if diff := cmp.Diff(want, m.Sent()); diff != "" {
			t.Errorf("Sent (-want +got):\n%s", diff)
		}
	})
	t.Run("the SMS sender numbers messages, fails those Fail picks and answers opt-out checks", func(t *testing.T) {
		m := &memory.SMSSender{OptedOutNumbers: map[string]bool{"+14155550199": true}, Fail: func(s delivery.SMS) error {
			if s.To == "+14155550100" {
				return errBounce
			}
			return nil
		}}
		for _, tt := range []struct {
			to, id string
			err    error
		}{{"+14155550101", "sms-1", nil}, {"+14155550100", "", errBounce}, {"+14155550102", "sms-2", nil}} {
			id, err := m.SendSMS(ctx, delivery.SMS{To: tt.to, Body: "Hi"})
			if id != tt.id || !errors.Is(err, tt.err) {
				t.Errorf("SendSMS(%s) = %q, %v; want %q, %v", tt.to, id, err, tt.id, tt.err)
			}
		}
		want := []delivery.SMS{{To: "+14155550101", Body: "Hi"}, {To: "+14155550102", Body: "Hi"}}
		if diff := cmp.Diff(want, m.Sent()); diff != "" {
			t.Errorf("Sent (-want +got):\n%s", diff)
		}
		for phone, want := range map[string]bool{"+14155550199": true, "+14155550101": false} {
			if got, err := m.OptedOut(ctx, phone); got != want || err != nil {
				t.Errorf("OptedOut(%s) = %v, %v; want %v", phone, got, err, want)
			}
		}
		if got := m.Checks(); got != 2 {
			t.Errorf("Checks = %d, want 2", got)
		}
	})
}

func TestPusherNamesEndpointsAsSNSAndRefusesDeadTokens(t *testing.T) {
	ctx := context.Background()
	const app = "arn:aws:sns:us-east-1:123456789012:app/GCM/shop"
	p := &memory.Pusher{}
	p.Refuse("refused")
	tests := []struct {
		name, token, want string
		err               error
	}{
		{"a first token gets the first endpoint of the app", "t1", "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop/1", nil},
		{"a second token gets another", "t2", "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop/2", nil},
		{"the first token again gets its endpoint again", "t1", "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop/1", nil},
		{"a refused token gets none", "refused", "", delivery.ErrInvalidToken},
	}
	for _, tt := range tests {
		got, err := p.Endpoint(ctx, app, tt.token)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("%s: Endpoint = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	dead := p.Disable(app, "t2")
	if id, err := p.Push(ctx, dead, "{}"); id != "" || !errors.Is(err, delivery.ErrInvalidToken) {
		t.Errorf("Push to a disabled endpoint = %q, %v; want ErrInvalidToken", id, err)
	}
	live := "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop/1"
	if id, err := p.Push(ctx, live, `{"GCM":"x"}`); id != "push-1" || err != nil {
		t.Errorf("Push = %q, %v; want push-1", id, err)
	}
	if diff := cmp.Diff([]memory.Push{{EndpointARN: live, Message: `{"GCM":"x"}`}}, p.Sent()); diff != "" {
		t.Errorf("Sent (-want +got):\n%s", diff)
	}
	if got := p.Calls(); got != 6 {
		t.Errorf("Calls = %d, want 6 (four endpoints, two publishes)", got)
	}
}
