package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	t0   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

var defaultContent = campaign.EmailContent{
	Subject: "Hi {{profile.person.name.firstName}}, order {{context.orderId}}",
	HTML:    "<html><body><p>{{profile.person.name.firstName}} {{profile.person.name.lastName}}: {{context.note}}</p></body></html>",
	Text:    "{{profile.person.name.firstName}} {{profile.person.name.lastName}}: {{context.note}}",
}

var defaultSettings = campaign.EmailSettings{FromName: "Acme", FromAddress: "orders@acme.example",
	ReplyTo: []string{"help@acme.example"}, ConfigurationSet: "acme-events"}

// fixture is a dispatcher on memory fakes with one live email campaign
// (camp-1, version 1, configuration cfg-1).
type fixture struct {
	store  *memory.Store
	mailer *memory.Mailer
	d      *delivery.Dispatcher

	mu  sync.Mutex
	now time.Time
}

func newFixture(tb testing.TB, content campaign.EmailContent, settings campaign.EmailSettings) *fixture {
	tb.Helper()
	return newFixtureIn(tb, campaign.Transactional, content, settings)
}

// newFixtureIn is newFixture with a campaign and configuration of
// category cat.
func newFixtureIn(tb testing.TB, cat campaign.Type, content campaign.EmailContent, settings campaign.EmailSettings) *fixture {
	tb.Helper()
	ctx := context.Background()
	f := &fixture{store: memory.New(), mailer: &memory.Mailer{}, now: t0}
	cfg := campaign.ChannelConfig{ID: "cfg-1", Name: "cfg", Channel: campaign.Email, Category: cat, Email: &settings, Revision: 1}
	if err := f.store.CreateConfig(ctx, acme, cfg); err != nil {
		tb.Fatalf("CreateConfig: %v", err)
	}
	spec := campaign.Spec{ChannelConfigID: "cfg-1", Content: campaign.Content{Email: &content}, Audience: campaign.Audience{Namespace: "email"}}
	c := campaign.Campaign{ID: "camp-1", Name: "c", Type: cat, Channel: campaign.Email, Status: campaign.StatusDraft, Draft: spec, Revision: 1}
	if err := f.store.CreateCampaign(ctx, acme, c); err != nil {
		tb.Fatalf("CreateCampaign: %v", err)
	}
	c.Status, c.LiveVersion, c.Revision = campaign.StatusLive, 1, 2
	v := campaign.Version{CampaignID: "camp-1", Number: 1, Type: cat, Channel: campaign.Email, Spec: spec, ActivatedAt: t0}
	if err := f.store.Activate(ctx, acme, c, v, 1); err != nil {
		tb.Fatalf("Activate: %v", err)
	}
	f.d = &delivery.Dispatcher{Campaigns: f.store, Profiles: f.store, Ledger: f.store, Mailer: f.mailer,
		DefaultConfigurationSet: "herald-default", Log: slog.New(slog.DiscardHandler), Now: f.clock}
	return f
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }

func (f *fixture) putProfile(tb testing.TB, p profile.Profile) {
	tb.Helper()
	if err := f.store.Put(context.Background(), acme, p); err != nil {
		tb.Fatalf("Put profile: %v", err)
	}
}

func job(rs ...delivery.Recipient) delivery.Job {
	return delivery.Job{Tenant: acme, ExecutionID: "ex-1", CampaignID: "camp-1", Version: 1, Recipients: rs, Ledger: delivery.LedgerV2}
}

// outcome is a ledger entry reduced to what a test checks.
type outcome struct {
	UserID  string
	State   delivery.State
	Outcome delivery.Outcome
}

// ledger returns the ledger's entries sorted by userId.
func (f *fixture) ledger() []outcome {
	var out []outcome
	for _, e := range f.store.AllEntries() {
		out = append(out, outcome{e.UserID, e.State, e.Outcome})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out
}

func TestDispatchRendersAndSends(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.putProfile(t, profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{
		"email":  "jane@example.com",
		"person": map[string]any{"name": map[string]any{"firstName": "Jane", "lastName": "Doe"}},
	}})
	r := delivery.Recipient{Type: "aep", UserID: "42", Namespace: "crmId",
		Profile: toObject(map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "J.<3"}}}),
		Context: toObject(map[string]any{"orderId": "A&B<1>", "note": `<b>Tom & "Jerry"</b>`})}

	if err := f.d.Dispatch(context.Background(), job(r)); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	want := []delivery.Email{{
		From:    `"Acme" <orders@acme.example>`,
		To:      "jane@example.com",
		ReplyTo: []string{"help@acme.example"},
		// Subject and text are not escaped; the request's firstName
		// overrides the stored one and the stored lastName survives.
		Subject:          "Hi J.<3, order A&B<1>",
		HTML:             "<html><body><p>J.&lt;3 Doe: &lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;</p></body></html>",
		Text:             `J.<3 Doe: <b>Tom & "Jerry"</b>`,
		ConfigurationSet: "acme-events",
		Tags: map[string]string{"campaignId": "camp-1", "executionId": "ex-1",
			delivery.TagName: delivery.Tag(acme, delivery.Key{ExecutionID: "ex-1", Namespace: "crmId", UserID: "42", Channel: campaign.Email})},
	}}
	if diff := cmp.Diff(want, f.mailer.Sent()); diff != "" {
		t.Errorf("sent email (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]outcome{{"42", delivery.Done, delivery.Sent}}, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	stored, err := f.store.Get(context.Background(), acme, profile.Identity{Namespace: "crmId", ID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.Attributes["person"].(map[string]any)["name"].(map[string]any)["firstName"]; got != "Jane" {
		t.Errorf("stored firstName = %v after dispatch, want Jane: the override is for rendering only", got)
	}
}

func TestDispatchUsesTheDefaultConfigurationSet(t *testing.T) {
	s := defaultSettings
	s.ConfigurationSet = ""
	f := newFixture(t, defaultContent, s)
	if err := f.d.Dispatch(context.Background(), job(delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"})); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	sent := f.mailer.Sent()
	if len(sent) != 1 || sent[0].ConfigurationSet != "herald-default" {
		t.Fatalf("sent %+v, want one email with configuration set herald-default", sent)
	}
}

func TestDispatchAddressPrecedence(t *testing.T) {
	tests := []struct {
		name    string
		stored  *profile.Profile
		r       delivery.Recipient
		wantTo  string
		outcome delivery.Outcome
	}{
		{"channelData beats the userId and the profile",
			&profile.Profile{Namespace: "email", ID: "id@example.com", Attributes: map[string]any{"email": "attr@example.com"}},
			delivery.Recipient{Type: "aep", UserID: "id@example.com", Namespace: "email", Email: "cd@example.com"},
			"cd@example.com", delivery.Sent},
		{"a userId in the email namespace beats the profile",
			&profile.Profile{Namespace: "email", ID: "id@example.com", Attributes: map[string]any{"email": "attr@example.com"}},
			delivery.Recipient{Type: "aep", UserID: "id@example.com", Namespace: "email"},
			"id@example.com", delivery.Sent},
		{"an external userId in the email namespace is its address",
			nil, delivery.Recipient{Type: "external", UserID: "ext@example.com", Namespace: "email"},
			"ext@example.com", delivery.Sent},
		{"the profile's email is the last resort",
			&profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"personalEmail": map[string]any{"address": "xdm@example.com"}}},
			delivery.Recipient{Type: "aep", UserID: "42", Namespace: "crmId"},
			"xdm@example.com", delivery.Sent},
		{"an external recipient's profile is never looked up",
			&profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"email": "stored@example.com"}},
			delivery.Recipient{Type: "external", UserID: "42", Namespace: "crmId"},
			"", delivery.ExcludedNoAddress},
		{"no address at all is excluded",
			&profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"tier": "gold"}},
			delivery.Recipient{Type: "aep", UserID: "42", Namespace: "crmId"},
			"", delivery.ExcludedNoAddress},
		{"an invalid stored address fails",
			&profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"email": "jane at example dot com"}},
			delivery.Recipient{Type: "aep", UserID: "42", Namespace: "crmId"},
			"", delivery.FailedInvalidAddr},
		{"a stored address with a header injection fails",
			&profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"email": "jane@example.com\r\nBcc: all@example.com"}},
			delivery.Recipient{Type: "aep", UserID: "42", Namespace: "crmId"},
			"", delivery.FailedInvalidAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, defaultContent, defaultSettings)
			if tt.stored != nil {
				f.putProfile(t, *tt.stored)
			}
			if err := f.d.Dispatch(context.Background(), job(tt.r)); err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
			var gotTo []string
			for _, e := range f.mailer.Sent() {
				gotTo = append(gotTo, e.To)
			}
			var wantTo []string
			if tt.wantTo != "" {
				wantTo = []string{tt.wantTo}
			}
			if diff := cmp.Diff(wantTo, gotTo); diff != "" {
				t.Errorf("sent to (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]outcome{{tt.r.UserID, delivery.Done, tt.outcome}}, f.ledger()); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDispatchTwiceSendsOnce(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	j := job(delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"},
		delivery.Recipient{Type: "external", UserID: "b@example.com", Namespace: "email"})
	for i := range 2 {
		if err := f.d.Dispatch(context.Background(), j); err != nil {
			t.Fatalf("Dispatch #%d: %v", i+1, err)
		}
	}
	f.wantSent(t, 2, "two dispatches of a 2-recipient job sent %d emails, want 2")
	want := []outcome{{"a@example.com", delivery.Done, delivery.Sent}, {"b@example.com", delivery.Done, delivery.Sent}}
	if diff := cmp.Diff(want, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

func TestDispatchConcurrentDuplicatesSendOnce(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	j := job(delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"})
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() { errs[i] = f.d.Dispatch(context.Background(), j) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, delivery.ErrRetry) {
			t.Errorf("Dispatch() error = %v, want nil or ErrRetry", err)
		}
	}
	f.wantSent(t, 1, "10 concurrent dispatches sent %d emails, want 1")
}

func TestDispatchThrottledIsRetriedAndSentOnce(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.mailer.Fail = func(e delivery.Email) error {
		if e.To == "slow@example.com" {
			return &delivery.SendError{Failure: delivery.Throttled, Code: "TooManyRequestsException"}
		}
		return nil
	}
	j := job(delivery.Recipient{Type: "external", UserID: "fast@example.com", Namespace: "email"},
		delivery.Recipient{Type: "external", UserID: "slow@example.com", Namespace: "email"})

	err := f.d.Dispatch(context.Background(), j)
	var re *delivery.RetryError
	if !errors.As(err, &re) || !errors.Is(err, delivery.ErrRetry) {
		t.Fatalf("Dispatch() with a throttled send error = %v, want a RetryError", err)
	}
	if first := delivery.DefaultTiming.RetryFirst; re.After < first/2 || re.After > first {
		t.Errorf("retry after %s, want the first backoff with jitter (%s to %s)", re.After, first/2, first)
	}
	// The throttled recipient keeps its claim, no attempt in flight; the
	// other is done.
	want := []outcome{{"fast@example.com", delivery.Done, delivery.Sent}, {"slow@example.com", delivery.Claimed, ""}}
	if diff := cmp.Diff(want, f.ledger()); diff != "" {
		t.Errorf("ledger after the throttle (-want +got):\n%s", diff)
	}

	f.mailer.Fail = nil
	if err := f.d.Dispatch(context.Background(), j); err != nil {
		t.Fatalf("second Dispatch: %v", err)
	}
	var to []string
	for _, e := range f.mailer.Sent() {
		to = append(to, e.To)
	}
	if diff := cmp.Diff([]string{"fast@example.com", "slow@example.com"}, to); diff != "" {
		t.Errorf("sent to (-want +got):\n%s", diff)
	}
	want = []outcome{{"fast@example.com", delivery.Done, delivery.Sent}, {"slow@example.com", delivery.Done, delivery.Sent}}
	if diff := cmp.Diff(want, f.ledger()); diff != "" {
		t.Errorf("ledger after the retry (-want +got):\n%s", diff)
	}
}

func TestDispatchPermanentRefusalIsNotRetried(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	calls := 0
	f.mailer.Fail = func(delivery.Email) error {
		calls++
		return &delivery.SendError{Failure: delivery.Refused, Code: "MessageRejected", Err: errors.New("Email address is not verified: a@example.com")}
	}
	j := job(delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"})
	for i := range 2 {
		if err := f.d.Dispatch(context.Background(), j); err != nil {
			t.Fatalf("Dispatch #%d error = %v, want nil: a refusal is final", i+1, err)
		}
	}
	if calls != 1 {
		t.Errorf("the provider was called %d times, want 1", calls)
	}
	if diff := cmp.Diff([]outcome{{"a@example.com", delivery.Done, "failed:MessageRejected"}}, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

func TestDispatchFindsAnotherClaim(t *testing.T) {
	stale := delivery.DefaultTiming.StaleAttempt
	tests := []struct {
		name      string
		inFlight  bool
		age       time.Duration
		wantRetry bool
		wantSent  int
		want      outcome
	}{
		{"a fresh attempt of another delivery is waited for", true, time.Second, true, 0,
			outcome{"a@example.com", delivery.Claimed, ""}},
		{"an attempt just under the stale age is still alive", true, stale - time.Second, true, 0,
			outcome{"a@example.com", delivery.Claimed, ""}},
		{"a stale attempt is closed as ambiguous, never sent again", true, stale, false, 0,
			outcome{"a@example.com", delivery.Done, delivery.AmbiguousInterrupted}},
		{"a claim whose attempt never started is taken over and sent", false, time.Second, false, 1,
			outcome{"a@example.com", delivery.Done, delivery.Sent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, defaultContent, defaultSettings)
			k := delivery.Key{ExecutionID: "ex-1", Namespace: "email", UserID: "a@example.com", Channel: campaign.Email}
			foreign := delivery.Entry{Key: k, CampaignID: "camp-1", Version: 1, State: delivery.Claimed, Token: "someone-else", ClaimedAt: t0}
			if _, ok, err := f.store.Claim(context.Background(), acme, foreign); !ok || err != nil {
				t.Fatalf("Claim(foreign) = %t, %v", ok, err)
			}
			if tt.inFlight {
				foreign.InFlight, foreign.AttemptAt, foreign.Attempts = true, t0, 1
				if err := f.store.Start(context.Background(), acme, foreign, "someone-else"); err != nil {
					t.Fatal(err)
				}
			}
			f.now = t0.Add(tt.age)

			err := f.d.Dispatch(context.Background(), job(delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"}))
			if got := errors.Is(err, delivery.ErrRetry); got != tt.wantRetry || (!tt.wantRetry && err != nil) {
				t.Fatalf("Dispatch() error = %v, want retry=%t", err, tt.wantRetry)
			}
			if n := len(f.mailer.Sent()); n != tt.wantSent {
				t.Errorf("Dispatch() sent %d emails, want %d", n, tt.wantSent)
			}
			if diff := cmp.Diff([]outcome{tt.want}, f.ledger()); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDispatchFormatsFrom(t *testing.T) {
	tests := []struct {
		name     string
		fromName string
		want     mail.Address
	}{
		{"a plain name is quoted", "Acme", mail.Address{Name: "Acme", Address: "orders@acme.example"}},
		{"no name is the bare address", "", mail.Address{Address: "orders@acme.example"}},
		{"quotes and backslashes survive", `Acme "Orders" \ Co`, mail.Address{Name: `Acme "Orders" \ Co`, Address: "orders@acme.example"}},
		{"a non-ASCII name survives", "Jérôme Dupont", mail.Address{Name: "Jérôme Dupont", Address: "orders@acme.example"}},
		{"a non-ASCII name with quotes survives", `Zoë "Z" O'Brien`, mail.Address{Name: `Zoë "Z" O'Brien`, Address: "orders@acme.example"}},
		{"a CRLF injection stays in one header line", "Acme\r\nBcc: evil@example.com", mail.Address{Name: "Acme Bcc: evil@example.com", Address: "orders@acme.example"}},
		{"a non-ASCII name with a bare LF stays in one line", "Café\nX-Evil: 1", mail.Address{Name: "Café X-Evil: 1", Address: "orders@acme.example"}},
		{"a long non-ASCII name stays in one line", strings.Repeat("Ünïcödé ", 20), mail.Address{Name: strings.Repeat("Ünïcödé ", 20), Address: "orders@acme.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := defaultSettings
			s.FromName = tt.fromName
			f := newFixture(t, defaultContent, s)
			if err := f.d.Dispatch(context.Background(), job(delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"})); err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
			sent := f.mailer.Sent()
			if len(sent) != 1 {
				t.Fatalf("sent %d emails, want 1", len(sent))
			}
			from := sent[0].From
			if strings.ContainsAny(from, "\r\n") {
				t.Fatalf("From = %q holds a line break", from)
			}
			got, err := mail.ParseAddress(from)
			if err != nil {
				t.Fatalf("From = %q does not parse as an address: %v", from, err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("From = %q parses to (-want +got):\n%s", from, diff)
			}
		})
	}
}

func TestDispatchContentDetails(t *testing.T) {
	tests := []struct {
		name    string
		content campaign.EmailContent
		context map[string]any
		want    delivery.Email // Subject, HTML and Text are compared
	}{
		{"the preheader goes right after the body tag, escaped",
			campaign.EmailContent{Subject: "s", Preheader: "Save {{context.pct}} & more", HTML: "<html><BODY class=\"x\"><p>Hi</p></BODY></html>"},
			map[string]any{"pct": "<20%>"},
			delivery.Email{Subject: "s", HTML: `<html><BODY class="x"><div style="display:none;max-height:0;overflow:hidden;mso-hide:all">Save &lt;20%&gt; &amp; more</div><p>Hi</p></BODY></html>`}},
		{"without a body tag the preheader leads the HTML",
			campaign.EmailContent{Subject: "s", Preheader: "Pre", HTML: "<p>Hi</p>"}, nil,
			delivery.Email{Subject: "s", HTML: `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">Pre</div><p>Hi</p>`}},
		{"a preheader is not added to a text-only email",
			campaign.EmailContent{Subject: "s", Preheader: "Pre", Text: "Hi"}, nil,
			delivery.Email{Subject: "s", Text: "Hi"}},
		{"a blank rendered preheader adds nothing",
			campaign.EmailContent{Subject: "s", Preheader: " {{context.none}} ", HTML: "<body>Hi</body>"}, nil,
			delivery.Email{Subject: "s", HTML: "<body>Hi</body>"}},
		{"line breaks in rendered subject values are stripped and the subject trimmed",
			campaign.EmailContent{Subject: " Order {{context.id}} ", Text: "t"},
			map[string]any{"id": "42\r\nBcc: evil@example.com\n"},
			delivery.Email{Subject: "Order 42 Bcc: evil@example.com", Text: "t"}},
		{"triple braces opt out of HTML escaping",
			campaign.EmailContent{Subject: "s", HTML: "{{{context.banner}}}|{{context.banner}}"},
			map[string]any{"banner": "<i>x</i>"},
			delivery.Email{Subject: "s", HTML: "<i>x</i>|&lt;i&gt;x&lt;/i&gt;"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.content, defaultSettings)
			r := delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email", Context: toObject(tt.context)}
			if err := f.d.Dispatch(context.Background(), job(r)); err != nil {
				t.Fatalf("Dispatch: %v", err)
			}
			sent := f.mailer.Sent()
			if len(sent) != 1 {
				t.Fatalf("sent %d emails, want 1", len(sent))
			}
			got := delivery.Email{Subject: sent[0].Subject, HTML: sent[0].HTML, Text: sent[0].Text}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rendered email (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDispatchEveryRecipientEndsDoneOnce(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.putProfile(t, profile.Profile{Namespace: "crmId", ID: "noaddr", Attributes: map[string]any{}})
	f.putProfile(t, profile.Profile{Namespace: "crmId", ID: "badaddr", Attributes: map[string]any{"email": "nope"}})
	f.mailer.Fail = func(e delivery.Email) error {
		if e.To == "rejected@example.com" {
			return &delivery.SendError{Failure: delivery.Refused, Code: "MessageRejected"}
		}
		return nil
	}
	var rs []delivery.Recipient
	want := []outcome{
		{"badaddr", delivery.Done, delivery.FailedInvalidAddr},
		{"noaddr", delivery.Done, delivery.ExcludedNoAddress},
		{"rejected@example.com", delivery.Done, "failed:MessageRejected"},
	}
	rs = append(rs,
		delivery.Recipient{Type: "aep", UserID: "noaddr", Namespace: "crmId"},
		delivery.Recipient{Type: "aep", UserID: "badaddr", Namespace: "crmId"},
		delivery.Recipient{Type: "external", UserID: "rejected@example.com", Namespace: "email"})
	for i := range 17 {
		id := fmt.Sprintf("u%02d@example.com", i)
		rs = append(rs, delivery.Recipient{Type: "external", UserID: id, Namespace: "email", Context: toObject(map[string]any{"orderId": i})})
		want = append(want, outcome{id, delivery.Done, delivery.Sent})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].UserID < want[j].UserID })
	f.d.Parallel = 3
	for i := range 2 {
		if err := f.d.Dispatch(context.Background(), job(rs...)); err != nil {
			t.Fatalf("Dispatch #%d: %v", i+1, err)
		}
	}
	if diff := cmp.Diff(want, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	f.wantSent(t, 17, "sent %d emails, want 17")
}

func TestDispatchRefusesBadJobs(t *testing.T) {
	ok := delivery.Recipient{Type: "external", UserID: "a@example.com", Namespace: "email"}
	tests := []struct {
		name string
		job  delivery.Job
	}{
		{"a job without a tenant", delivery.Job{ExecutionID: "ex-1", CampaignID: "camp-1", Version: 1, Recipients: []delivery.Recipient{ok}}},
		{"a job without an execution id", delivery.Job{Tenant: acme, CampaignID: "camp-1", Version: 1, Recipients: []delivery.Recipient{ok}}},
		{"a job with version 0", delivery.Job{Tenant: acme, ExecutionID: "ex-1", CampaignID: "camp-1", Recipients: []delivery.Recipient{ok}}},
		{"a job without recipients", job()},
		{"a recipient without a namespace", job(delivery.Recipient{UserID: "x"})},
		{"a job for an unknown version", delivery.Job{Tenant: acme, ExecutionID: "ex-1", CampaignID: "camp-1", Version: 9, Recipients: []delivery.Recipient{ok}}},
		{"a job of another tenant", delivery.Job{Tenant: tenant.Tenant{Org: "globex", Sandbox: "prod"}, ExecutionID: "ex-1", CampaignID: "camp-1", Version: 1, Recipients: []delivery.Recipient{ok}}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused and sends nothing", func(t *testing.T) {
			f := newFixture(t, defaultContent, defaultSettings)
			err := f.d.Dispatch(context.Background(), tt.job)
			if err == nil || errors.Is(err, delivery.ErrRetry) {
				t.Errorf("Dispatch() error = %v, want a non-retry error", err)
			}
			if n, l := len(f.mailer.Sent()), len(f.ledger()); n != 0 || l != 0 {
				t.Errorf("Dispatch() sent %d emails and wrote %d ledger entries, want 0 and 0", n, l)
			}
		})
	}
}

// failingProfiles is a profile store that is down.
type failingProfiles struct{}

func (failingProfiles) BatchGet(context.Context, tenant.Tenant, []profile.Identity) (map[profile.Identity]profile.Profile, error) {
	return nil, errors.New("dynamodb: throughput exceeded")
}

func TestDispatchRetriesWhenProfilesAreUnavailable(t *testing.T) {
	f := newFixture(t, defaultContent, defaultSettings)
	f.d.Profiles = failingProfiles{}
	err := f.d.Dispatch(context.Background(), job(delivery.Recipient{Type: "aep", UserID: "42", Namespace: "crmId"}))
	if !errors.Is(err, delivery.ErrRetry) {
		t.Errorf("Dispatch() error = %v, want ErrRetry", err)
	}
	if l := len(f.ledger()); l != 0 {
		t.Errorf("Dispatch() wrote %d ledger entries, want 0", l)
	}
}

func TestDispatchMarketingWithoutConsentIsExcluded(t *testing.T) {
	f := newFixture(t, campaign.EmailContent{Subject: "Sale", Text: "Sale"}, campaign.EmailSettings{FromName: "Shop", FromAddress: "news@shop.example"})
	ctx := context.Background()
	withMarketing(t, f)
	for _, p := range []profile.Profile{
		{Namespace: "email", ID: "no@example.com", Consent: map[string]string{"email": "n"}},
		{Namespace: "email", ID: "yes@example.com", Consent: map[string]string{"email": "y"}},
		{Namespace: "email", ID: "unset@example.com", Consent: map[string]string{"sms": "n"}},
	} {
		f.putProfile(t, p)
	}
	j := delivery.Job{Tenant: acme, ExecutionID: "ex-m", CampaignID: "mkt-1", Version: 1}
	for _, id := range []string{"no@example.com", "yes@example.com", "unset@example.com"} {
		j.Recipients = append(j.Recipients, delivery.Recipient{Type: "aep", Namespace: "email", UserID: id})
	}
	if err := f.d.Dispatch(ctx, j); err != nil {
		t.Fatal(err)
	}
	want := []outcome{
		{"no@example.com", delivery.Done, delivery.ExcludedNoConsent},
		{"unset@example.com", delivery.Done, delivery.Sent},
		{"yes@example.com", delivery.Done, delivery.Sent},
	}
	if diff := cmp.Diff(want, f.ledger()); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
	f.wantSent(t, 2, "sent %d emails, want 2 (none to the refusing profile)")
}
