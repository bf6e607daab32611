package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/strictjson"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme   = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	globex = tenant.Tenant{Org: "globex", Sandbox: "prod"}
	now    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// newService returns a service on store with a fixed clock and ids
// id-1, id-2, ...
func newService(store campaign.Store) *campaign.Service {
	var mu sync.Mutex
	n := 0
	return &campaign.Service{Schemas: contextschema.Compiler{}, Store: store, Now: func() time.Time { return now },
		NewID: func() string { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("id-%d", n) }}
}

// campaignPatch is the edit a PATCH /campaigns/{id} merge patch makes.
func campaignPatch(t *testing.T, body string) campaign.CampaignEdit {
	t.Helper()
	edit, err := strictjson.ParsePatch[campaign.CampaignInput]([]byte(body))
	if err != nil {
		t.Fatalf("merge patch %s: %v", body, err)
	}
	return edit
}

// configPatch is the edit a PATCH /channel-configurations/{id} merge
// patch makes.
func configPatch(t *testing.T, body string) campaign.ConfigEdit {
	t.Helper()
	edit, err := strictjson.ParsePatch[campaign.ConfigInput]([]byte(body))
	if err != nil {
		t.Fatalf("merge patch %s: %v", body, err)
	}
	return edit
}

// fieldsOf returns the field names of err's validation errors, failing
// unless err is a derrors.Error of kind.
func fieldsOf(t *testing.T, err error, kind derrors.Kind) []string {
	t.Helper()
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != kind {
		t.Fatalf("error = %v, want a derrors.Error of kind %d", err, kind)
	}
	var names []string
	for _, f := range de.Fields {
		names = append(names, f.Field)
	}
	return names
}

func validConfig() campaign.ConfigInput {
	return campaign.ConfigInput{Name: "Receipts", Channel: campaign.Email, Category: campaign.Transactional,
		Email: &campaign.EmailSettings{FromName: "Acme", FromAddress: "orders@acme.example", ReplyTo: []string{"help@acme.example"}, ConfigurationSet: "herald-events"}}
}

func validCampaign(configID string) campaign.CampaignInput {
	return campaign.CampaignInput{Name: "Order confirmation", Type: campaign.Transactional, Channel: campaign.Email,
		ChannelConfigID: configID,
		Content: campaign.Content{Email: &campaign.EmailContent{
			Subject: "Order {{context.orderId}}", HTML: "<p>Hi {{profile.firstName}}</p>", Text: "Hi {{profile.firstName}}"}}}
}

func TestCreateConfig(t *testing.T) {
	store := memory.New()
	got, err := newService(store).CreateConfig(context.Background(), acme, validConfig())
	if err != nil {
		t.Fatalf("CreateConfig: %v", err)
	}
	in := validConfig()
	want := campaign.ChannelConfig{ID: "id-1", Name: in.Name, Channel: in.Channel, Category: in.Category, Email: in.Email,
		Revision: 1, CreatedAt: now, UpdatedAt: now}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateConfig() mismatch (-want +got):\n%s", diff)
	}
	stored, err := store.GetConfig(context.Background(), acme, "id-1")
	if err != nil {
		t.Fatalf("GetConfig: %v", err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored configuration (-want +got):\n%s", diff)
	}
	if _, err := store.GetConfig(context.Background(), globex, "id-1"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("GetConfig(other tenant) error = %v, want NotFound", err)
	}
}

func TestCreateConfigValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*campaign.ConfigInput)
		fields []string
	}{
		{"a blank name is required", func(c *campaign.ConfigInput) { c.Name = "  " }, []string{"name"}},
		{"a name over 256 characters is refused", func(c *campaign.ConfigInput) { c.Name = strings.Repeat("é", 257) }, []string{"name"}},
		{"a missing category is required", func(c *campaign.ConfigInput) { c.Category = "" }, []string{"category"}},
		{"an unknown category is refused", func(c *campaign.ConfigInput) { c.Category = "promotional" }, []string{"category"}},
		{"a missing channel is required", func(c *campaign.ConfigInput) { c.Channel = ""; c.Email = nil }, []string{"channel"}},
		{"an sms configuration needs sms settings and no email ones", func(c *campaign.ConfigInput) { c.Channel = campaign.SMS }, []string{"email", "sms"}},
		{"an unknown channel is refused", func(c *campaign.ConfigInput) { c.Channel = "fax" }, []string{"channel"}},
		{"an email configuration needs email settings", func(c *campaign.ConfigInput) { c.Email = nil }, []string{"email"}},
		{"a from address must be an address", func(c *campaign.ConfigInput) { c.Email.FromAddress = "Acme <orders@acme.example>" }, []string{"email.fromAddress"}},
		{"a from name cannot hold a line break", func(c *campaign.ConfigInput) { c.Email.FromName = "Acme\r\nBcc: x@y.z" }, []string{"email.fromName"}},
		{"every bad reply-to is named", func(c *campaign.ConfigInput) { c.Email.ReplyTo = []string{"ok@acme.example", "nope", "also nope"} },
			[]string{"email.replyTo[1]", "email.replyTo[2]"}},
		{"more than five reply-tos are refused", func(c *campaign.ConfigInput) {
			c.Email.ReplyTo = strings.Split("a@x.io b@x.io c@x.io d@x.io e@x.io f@x.io", " ")
		}, []string{"email.replyTo"}},
		{"a configuration set must be an SES name", func(c *campaign.ConfigInput) { c.Email.ConfigurationSet = "bad name!" }, []string{"email.configurationSet"}},
		{"every problem is reported at once", func(c *campaign.ConfigInput) { c.Name = ""; c.Category = ""; c.Email.FromAddress = "" },
			[]string{"name", "category", "email.fromAddress"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New()
			in := validConfig()
			tt.edit(&in)
			_, err := newService(store).CreateConfig(context.Background(), acme, in)
			if diff := cmp.Diff(tt.fields, fieldsOf(t, err, derrors.Invalid)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if _, err := store.GetConfig(context.Background(), acme, "id-1"); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("an invalid configuration was stored (GetConfig error = %v)", err)
			}
		})
	}
}

func TestCreateCampaign(t *testing.T) {
	store := memory.New()
	in := validCampaign("cfg")
	got, err := newService(store).CreateCampaign(context.Background(), acme, in)
	if err != nil {
		t.Fatalf("CreateCampaign: %v", err)
	}
	want := campaign.Campaign{ID: "id-1", Name: in.Name, Type: campaign.Transactional, Channel: campaign.Email,
		Status: campaign.StatusDraft, Revision: 1, DraftPending: true, CreatedAt: now, UpdatedAt: now,
		Draft: campaign.Spec{ChannelConfigID: "cfg", Content: in.Content, Audience: campaign.Audience{Namespace: "email"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateCampaign() mismatch (-want +got):\n%s", diff)
	}
	stored, err := store.GetCampaign(context.Background(), acme, "id-1")
	if err != nil {
		t.Fatalf("GetCampaign: %v", err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored campaign (-want +got):\n%s", diff)
	}
}

func TestCreateCampaignValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*campaign.CampaignInput)
		fields []string
	}{
		{"a missing name is required", func(c *campaign.CampaignInput) { c.Name = "" }, []string{"name"}},
		{"a name over 256 characters is refused", func(c *campaign.CampaignInput) { c.Name = strings.Repeat("n", 257) }, []string{"name"}},
		{"a description over 4096 characters is refused", func(c *campaign.CampaignInput) { c.Description = strings.Repeat("d", 4097) }, []string{"description"}},
		{"more than 20 tags are refused", func(c *campaign.CampaignInput) {
			c.Tags = strings.Split("a b c d e f g h i j k l m n o p q r s t u", " ")
		}, []string{"tags"}},
		{"a duplicate tag is named", func(c *campaign.CampaignInput) { c.Tags = []string{"vip", "vip"} }, []string{"tags[1]"}},
		{"a high-throughput marketing campaign is refused", func(c *campaign.CampaignInput) { c.HighThroughput, c.Type = true, campaign.Marketing }, []string{"highThroughput"}},
		{"a high-throughput SMS campaign is refused", func(c *campaign.CampaignInput) {
			c.HighThroughput, c.Channel, c.Content = true, campaign.SMS, campaign.Content{SMS: &campaign.SMSContent{Body: "hi"}}
		}, []string{"highThroughput"}},
		{"a high-throughput campaign never creates profiles", func(c *campaign.CampaignInput) { c.HighThroughput, c.Audience.CreateProfiles = true, true },
			[]string{"audience.createProfiles"}},
		{"an empty or overlong tag is named", func(c *campaign.CampaignInput) { c.Tags = []string{"ok", "", strings.Repeat("x", 65)} },
			[]string{"tags[1]", "tags[2]"}},
		{"a missing type is required", func(c *campaign.CampaignInput) { c.Type = "" }, []string{"type"}},
		{"an unknown type is refused", func(c *campaign.CampaignInput) { c.Type = "newsletter" }, []string{"type"}},
		{"create-profiles is for transactional campaigns", func(c *campaign.CampaignInput) {
			c.Type, c.Audience.CreateProfiles = campaign.Marketing, true
		}, []string{"audience.createProfiles"}},
		{"an audience id is for marketing campaigns", func(c *campaign.CampaignInput) { c.Audience.AudienceID = "aud-1" }, []string{"audience.audienceId"}},
		{"a delivery rate over 2000 is refused", func(c *campaign.CampaignInput) { c.Schedule.DeliveryRate = 2001 }, []string{"schedule.deliveryRate"}},
		{"an SMS body over 1600 characters is refused", func(c *campaign.CampaignInput) {
			c.Channel, c.Content = campaign.SMS, campaign.Content{SMS: &campaign.SMSContent{Body: strings.Repeat("é", 1601)}}
		}, []string{"content.sms.body"}},
		{"an invalid context schema is refused", func(c *campaign.CampaignInput) { c.ContextSchema = []byte(`{"type":"nope"}`) }, []string{"contextSchema"}},
		{"a context schema referring outside itself is refused", func(c *campaign.CampaignInput) {
			c.ContextSchema = []byte(`{"$ref":"file:///etc/passwd"}`)
		}, []string{"contextSchema"}},
		{"an unknown type is refused", func(c *campaign.CampaignInput) { c.Type = "bulk" }, []string{"type"}},
		{"a missing channel is required", func(c *campaign.CampaignInput) { c.Channel = "" }, []string{"channel"}},
		{"email content on a push campaign is refused", func(c *campaign.CampaignInput) { c.Channel = campaign.Push }, []string{"content.email"}},
		{"an unknown channel is refused", func(c *campaign.CampaignInput) { c.Channel = "pigeon" }, []string{"channel"}},
		{"a subject with a line break is refused", func(c *campaign.CampaignInput) { c.Content.Email.Subject = "Hi\nBcc: x" }, []string{"content.email.subject"}},
		{"a subject over 998 bytes is refused", func(c *campaign.CampaignInput) { c.Content.Email.Subject = strings.Repeat("s", 999) }, []string{"content.email.subject"}},
		{"a preheader over 1000 bytes is refused", func(c *campaign.CampaignInput) { c.Content.Email.Preheader = strings.Repeat("p", 1001) }, []string{"content.email.preheader"}},
		{"an html body over 500 KiB is refused", func(c *campaign.CampaignInput) { c.Content.Email.HTML = strings.Repeat("h", campaign.MaxHTMLLen+1) }, []string{"content.email.html"}},
		{"a text body over 100 KiB is refused", func(c *campaign.CampaignInput) { c.Content.Email.Text = strings.Repeat("t", campaign.MaxTextLen+1) }, []string{"content.email.text"}},
		{"a bad audience namespace is refused", func(c *campaign.CampaignInput) { c.Audience.Namespace = "e mail" }, []string{"audience.namespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New()
			in := validCampaign("cfg")
			tt.edit(&in)
			_, err := newService(store).CreateCampaign(context.Background(), acme, in)
			if diff := cmp.Diff(tt.fields, fieldsOf(t, err, derrors.Invalid)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			if _, err := store.GetCampaign(context.Background(), acme, "id-1"); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("an invalid campaign was stored (GetCampaign error = %v)", err)
			}
		})
	}
}

// setup stores an email configuration of category cat and a draft made
// from in (with its config id set to the configuration), and returns the
// service and the campaign id.
func setup(t *testing.T, store *memory.Store, cat campaign.Type, edit func(*campaign.CampaignInput)) (*campaign.Service, string) {
	t.Helper()
	svc := newService(store)
	cin := validConfig()
	cin.Category = cat
	cfg, err := svc.CreateConfig(context.Background(), acme, cin)
	if err != nil {
		t.Fatalf("CreateConfig: %v", err)
	}
	in := validCampaign(cfg.ID)
	if edit != nil {
		edit(&in)
	}
	c, err := svc.CreateCampaign(context.Background(), acme, in)
	if err != nil {
		t.Fatalf("CreateCampaign: %v", err)
	}
	return svc, c.ID
}

func TestActivate(t *testing.T) {
	store := memory.New()
	svc, id := setup(t, store, campaign.Transactional, nil)

	got, err := svc.Activate(context.Background(), acme, id)
	if err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if got.Status != campaign.StatusLive || got.LiveVersion != 1 || got.Revision != 2 {
		t.Errorf("Activate() = status %s, liveVersion %d, revision %d; want live, 1, 2", got.Status, got.LiveVersion, got.Revision)
	}
	stored, err := store.GetCampaign(context.Background(), acme, id)
	if err != nil {
		t.Fatalf("GetCampaign: %v", err)
	}
	if diff := cmp.Diff(got, stored); diff != "" {
		t.Errorf("stored campaign differs from Activate's result (-want +got):\n%s", diff)
	}
	v, err := store.GetVersion(context.Background(), acme, id, 1)
	if err != nil {
		t.Fatalf("GetVersion(1): %v", err)
	}
	want := campaign.Version{CampaignID: id, Number: 1, Type: campaign.Transactional, Channel: campaign.Email, Spec: stored.Draft, ActivatedAt: now}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("version 1 (-want +got):\n%s", diff)
	}

	_, err = svc.Activate(context.Background(), acme, id)
	if !derrors.Is(err, derrors.Conflict) {
		t.Errorf("Activate(live campaign) error = %v, want Conflict", err)
	}
}

func TestActivateWithFutureStartIsScheduled(t *testing.T) {
	start := now.Add(24 * time.Hour)
	svc, id := setup(t, memory.New(), campaign.Transactional, func(c *campaign.CampaignInput) { c.Schedule.Start = &start })
	got, err := svc.Activate(context.Background(), acme, id)
	if err != nil {
		t.Fatalf("Activate: %v", err)
	}
	if got.Status != campaign.StatusScheduled || got.LiveVersion != 1 {
		t.Errorf("Activate() = status %s, liveVersion %d; want scheduled, 1", got.Status, got.LiveVersion)
	}
}

func TestActivateRefusesUnsendableDrafts(t *testing.T) {
	tests := []struct {
		name     string
		category campaign.Type
		edit     func(*campaign.CampaignInput)
		fields   []string
		message  string // in the first field's message
	}{
		{"a draft without a configuration is refused", campaign.Transactional,
			func(c *campaign.CampaignInput) { c.ChannelConfigID = "" }, []string{"channelConfigurationId"}, "required"},
		{"a draft naming an unknown configuration is refused", campaign.Transactional,
			func(c *campaign.CampaignInput) { c.ChannelConfigID = "nope" }, []string{"channelConfigurationId"}, `"nope"`},
		{"a configuration of another category is refused", campaign.Marketing,
			nil, []string{"channelConfigurationId"}, "marketing"},
		{"a draft without email content is refused", campaign.Transactional,
			func(c *campaign.CampaignInput) { c.Content.Email = nil }, []string{"content.email"}, "required"},
		{"a blank subject and no body are refused", campaign.Transactional,
			func(c *campaign.CampaignInput) { c.Content.Email = &campaign.EmailContent{Subject: " "} },
			[]string{"content.email.subject", "content.email.html"}, "required"},
		{"a subject template syntax error names its line and column", campaign.Transactional,
			func(c *campaign.CampaignInput) { c.Content.Email.Subject = "Order {{context.orderId" },
			[]string{"content.email.subject"}, "line 1, col 7"},
		{"an html template error names the html", campaign.Transactional,
			func(c *campaign.CampaignInput) { c.Content.Email.HTML = "<p>\n{{#if profile.vip}}VIP</p>" },
			[]string{"content.email.html"}, "line 2"},
		{"every template error is listed", campaign.Transactional,
			func(c *campaign.CampaignInput) {
				c.Content.Email.Preheader = "{{/each}}"
				c.Content.Email.Text = "{{"
			},
			[]string{"content.email.preheader", "content.email.text"}, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New()
			svc, id := setup(t, store, tt.category, tt.edit)
			_, err := svc.Activate(context.Background(), acme, id)
			if diff := cmp.Diff(tt.fields, fieldsOf(t, err, derrors.Unprocessable)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			var de *derrors.Error
			if errors.As(err, &de) && !strings.Contains(de.Fields[0].Message, tt.message) {
				t.Errorf("first field message = %q, want it to mention %q", de.Fields[0].Message, tt.message)
			}
			c, err := store.GetCampaign(context.Background(), acme, id)
			if err != nil {
				t.Fatalf("GetCampaign: %v", err)
			}
			if c.Status != campaign.StatusDraft || c.Revision != 1 {
				t.Errorf("after a refused activation the campaign is %s at revision %d, want draft at 1", c.Status, c.Revision)
			}
			if _, err := store.GetVersion(context.Background(), acme, id, 1); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("a refused activation stored version 1 (GetVersion error = %v)", err)
			}
		})
	}
}

func TestActivateUnknownOrForeignCampaignIsNotFound(t *testing.T) {
	store := memory.New()
	svc, id := setup(t, store, campaign.Transactional, nil)
	for _, tc := range []struct {
		name string
		t    tenant.Tenant
		id   string
	}{
		{"an unknown id", acme, "missing"},
		{"another tenant's campaign", globex, id},
	} {
		t.Run(tc.name+" is not found", func(t *testing.T) {
			if _, err := svc.Activate(context.Background(), tc.t, tc.id); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("Activate() error = %v, want NotFound", err)
			}
		})
	}
	if c, _ := store.GetCampaign(context.Background(), acme, id); c.Status != campaign.StatusDraft {
		t.Errorf("another tenant's activation changed the campaign to %s", c.Status)
	}
}

// racingStore activates the campaign through another service the first
// time GetCampaign is called, as a concurrent request would, so the
// caller's Activate runs with a stale revision.
type racingStore struct {
	*memory.Store
	once  sync.Once
	rival *campaign.Service
	err   error
}

func (r *racingStore) GetCampaign(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error) {
	c, err := r.Store.GetCampaign(ctx, t, id)
	r.once.Do(func() { _, r.err = r.rival.Activate(ctx, t, id) })
	return c, err
}

func TestActivateRevisionConflict(t *testing.T) {
	mem := memory.New()
	_, id := setup(t, mem, campaign.Transactional, nil)
	rs := &racingStore{Store: mem, rival: newService(mem)}

	_, err := newService(rs).Activate(context.Background(), acme, id)
	if rs.err != nil {
		t.Fatalf("rival Activate: %v", rs.err)
	}
	if !derrors.Is(err, derrors.Precondition) {
		t.Fatalf("Activate() with a stale revision error = %v, want Precondition", err)
	}
	c, err := mem.GetCampaign(context.Background(), acme, id)
	if err != nil {
		t.Fatalf("GetCampaign: %v", err)
	}
	if c.LiveVersion != 1 || c.Revision != 2 {
		t.Errorf("after the race liveVersion = %d, revision = %d; want the rival's 1 and 2", c.LiveVersion, c.Revision)
	}
}

func TestStoreActivateChecksRevision(t *testing.T) {
	store := memory.New()
	svc, id := setup(t, store, campaign.Transactional, nil)
	c, err := svc.GetCampaign(context.Background(), acme, id)
	if err != nil {
		t.Fatalf("GetCampaign: %v", err)
	}
	v := campaign.Version{CampaignID: id, Number: 1, Type: c.Type, Channel: c.Channel, Spec: c.Draft, ActivatedAt: now}
	next := c
	next.Status, next.LiveVersion, next.Revision = campaign.StatusLive, 1, c.Revision+1

	if err := store.Activate(context.Background(), acme, next, v, c.Revision+5); !derrors.Is(err, derrors.Precondition) {
		t.Errorf("Activate(stale revision) error = %v, want Precondition", err)
	}
	if err := store.Activate(context.Background(), acme, next, v, c.Revision); err != nil {
		t.Fatalf("Activate(current revision): %v", err)
	}
	if err := store.Activate(context.Background(), acme, next, v, c.Revision); !derrors.Is(err, derrors.Precondition) {
		t.Errorf("Activate() replayed error = %v, want Precondition", err)
	}
}

func TestConcurrentActivationsMakeOneVersion(t *testing.T) {
	store := memory.New()
	svc, id := setup(t, store, campaign.Transactional, nil)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = svc.Activate(context.Background(), acme, id) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case derrors.Is(err, derrors.Precondition), derrors.Is(err, derrors.Conflict):
		default:
			t.Errorf("Activate() error = %v, want nil, Precondition or Conflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent activations succeeded, want exactly 1", ok, n)
	}
	if _, err := store.GetVersion(context.Background(), acme, id, 2); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("concurrent activations made a version 2 (GetVersion error = %v)", err)
	}
}

// recordingHooks records what the schedule hooks were told.
type recordingHooks struct{ calls []string }

func (h *recordingHooks) Activated(_ context.Context, _ tenant.Tenant, c campaign.Campaign, v campaign.Version) error {
	h.calls = append(h.calls, fmt.Sprintf("activated %s v%d %s", c.ID, v.Number, c.Status))
	return nil
}

func (h *recordingHooks) Ended(_ context.Context, _ tenant.Tenant, c campaign.Campaign) error {
	h.calls = append(h.calls, "ended "+c.ID+" "+string(c.Status))
	return nil
}

func TestScheduleTransitions(t *testing.T) {
	start := now.Add(time.Hour)
	store := memory.New()
	svc, id := setup(t, store, campaign.Transactional, func(c *campaign.CampaignInput) { c.Schedule.Start = &start })
	hooks := &recordingHooks{}
	svc.Hooks = hooks
	ctx := context.Background()
	if _, err := svc.MarkLive(ctx, acme, id); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("MarkLive(draft) = %v, want Conflict", err)
	}
	if _, err := svc.Activate(ctx, acme, id); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second call finds it live: a repeated schedule delivery
		c, err := svc.MarkLive(ctx, acme, id)
		if err != nil || c.Status != campaign.StatusLive {
			t.Fatalf("MarkLive #%d = %s, %v; want live", i, c.Status, err)
		}
	}
	for i := range 2 {
		c, err := svc.MarkCompleted(ctx, acme, id)
		if err != nil || c.Status != campaign.StatusCompleted {
			t.Fatalf("MarkCompleted #%d = %s, %v; want completed", i, c.Status, err)
		}
	}
	if _, err := svc.MarkLive(ctx, acme, id); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("MarkLive(completed) = %v, want Conflict", err)
	}
	want := []string{"activated " + id + " v1 scheduled", "ended " + id + " completed", "ended " + id + " completed"}
	if diff := cmp.Diff(want, hooks.calls); diff != "" {
		t.Errorf("hook calls (-want +got):\n%s", diff)
	}
}

func errorsAs(err error, target **derrors.Error) bool { return errors.As(err, target) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
