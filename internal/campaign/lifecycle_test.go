package campaign_test

import (
	"context"
	"encoding/json"
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
)

// inStatus returns a service and a campaign brought to status st through
// the service itself (failed is set in the store, as the schedule
// machinery would).
func inStatus(t *testing.T, st campaign.Status) (*campaign.Service, *memory.Store, string) {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	svc, id := setup(t, store, campaign.Transactional, func(c *campaign.CampaignInput) {
		if st == campaign.StatusScheduled {
			start := now.Add(time.Hour)
			c.Schedule.Start = &start
		}
	})
	must := func(_ campaign.Campaign, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("bringing the campaign to %s: %v", st, err)
		}
	}
	switch st {
	case campaign.StatusDraft:
	case campaign.StatusLive, campaign.StatusScheduled:
		must(svc.Activate(ctx, acme, id))
	case campaign.StatusStopped:
		must(svc.Activate(ctx, acme, id))
		must(svc.Stop(ctx, acme, id, 0))
	case campaign.StatusCompleted:
		must(svc.Activate(ctx, acme, id))
		must(svc.MarkCompleted(ctx, acme, id))
	case campaign.StatusArchived:
		must(svc.Activate(ctx, acme, id))
		must(svc.Archive(ctx, acme, id, 0))
	case campaign.StatusFailed:
		c, err := store.GetCampaign(ctx, acme, id)
		if err != nil {
			t.Fatal(err)
		}
		c.Status, c.Revision = campaign.StatusFailed, c.Revision+1
		if err := store.UpdateCampaign(ctx, acme, c, c.Revision-1); err != nil {
			t.Fatal(err)
		}
	}
	return svc, store, id
}

func TestEveryLifecycleTransition(t *testing.T) {
	ctx := context.Background()
	type action struct {
		name string
		do   func(*campaign.Service, string) (campaign.Status, error)
	}
	status := func(c campaign.Campaign, err error) (campaign.Status, error) { return c.Status, err }
	newSubject := campaignPatch(t, `{"content":{"email":{"subject":"New {{context.orderId}}"}}}`)
	edit := func(svc *campaign.Service, id string) (campaign.Status, error) {
		return status(svc.UpdateCampaign(ctx, acme, id, newSubject, 0))
	}
	actions := map[string]action{
		"activate": {"activate", func(svc *campaign.Service, id string) (campaign.Status, error) {
			return status(svc.Activate(ctx, acme, id))
		}},
		"edit then activate": {"edit then activate", func(svc *campaign.Service, id string) (campaign.Status, error) {
			if _, err := edit(svc, id); err != nil {
				return "", err
			}
			return status(svc.Activate(ctx, acme, id))
		}},
		"edit": {"edit", edit},
		"stop": {"stop", func(svc *campaign.Service, id string) (campaign.Status, error) {
			return status(svc.Stop(ctx, acme, id, 0))
		}},
		"archive": {"archive", func(svc *campaign.Service, id string) (campaign.Status, error) {
			return status(svc.Archive(ctx, acme, id, 0))
		}},
		"delete": {"delete", func(svc *campaign.Service, id string) (campaign.Status, error) {
			if err := svc.DeleteCampaign(ctx, acme, id, 0); err != nil {
				return "", err
			}
			return "deleted", nil
		}},
		"go live": {"go live", func(svc *campaign.Service, id string) (campaign.Status, error) {
			return status(svc.MarkLive(ctx, acme, id))
		}},
		"complete": {"complete", func(svc *campaign.Service, id string) (campaign.Status, error) {
			return status(svc.MarkCompleted(ctx, acme, id))
		}},
	}
	const conflict = "409"
	// want[from][action] is the status after the action, or 409.
	want := map[campaign.Status]map[string]campaign.Status{
		campaign.StatusDraft: {"activate": "live", "edit then activate": "live", "edit": "draft", "stop": conflict,
			"archive": conflict, "delete": "deleted", "go live": conflict, "complete": conflict},
		campaign.StatusScheduled: {"activate": conflict, "edit then activate": "scheduled", "edit": "scheduled", "stop": "stopped",
			"archive": "archived", "delete": conflict, "go live": "live", "complete": "completed"},
		campaign.StatusLive: {"activate": conflict, "edit then activate": "live", "edit": "live", "stop": "stopped",
			"archive": "archived", "delete": conflict, "go live": "live", "complete": "completed"},
		campaign.StatusStopped: {"activate": conflict, "edit then activate": conflict, "edit": conflict, "stop": conflict,
			"archive": "archived", "delete": conflict, "go live": conflict, "complete": "stopped"},
		campaign.StatusCompleted: {"activate": conflict, "edit then activate": conflict, "edit": conflict, "stop": conflict,
			"archive": "archived", "delete": conflict, "go live": conflict, "complete": "completed"},
		campaign.StatusArchived: {"activate": conflict, "edit then activate": conflict, "edit": conflict, "stop": conflict,
			"archive": conflict, "delete": conflict, "go live": conflict, "complete": "archived"},
		campaign.StatusFailed: {"activate": "live", "edit then activate": "live", "edit": "failed", "stop": conflict,
			"archive": "archived", "delete": conflict, "go live": conflict, "complete": conflict},
	}
	for from, row := range want {
		for name, to := range row {
			t.Run(fmt.Sprintf("%s from %s gives %s", name, from, to), func(t *testing.T) {
				svc, store, id := inStatus(t, from)
				before, _ := store.GetCampaign(ctx, acme, id)
				got, err := actions[name].do(svc, id)
				if to == conflict {
					if !derrors.Is(err, derrors.Conflict) {
						t.Fatalf("%s from %s = %s, %v; want a 409 Conflict", name, from, got, err)
					}
					var de *derrors.Error
					if errorsAs(err, &de) && !contains(de.Detail, string(from)) {
						t.Errorf("the conflict %q does not name the current status %s", de.Detail, from)
					}
					after, _ := store.GetCampaign(ctx, acme, id)
					if name != "edit then activate" && after.Revision != before.Revision {
						t.Errorf("a refused %s changed the campaign (revision %d -> %d)", name, before.Revision, after.Revision)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s from %s: %v", name, from, err)
				}
				if got != to {
					t.Errorf("%s from %s = %s, want %s", name, from, got, to)
				}
			})
		}
	}
}

func TestEditingALiveCampaignMakesADraftVersionThatActivationFreezes(t *testing.T) {
	ctx := context.Background()
	svc, store, id := inStatus(t, campaign.StatusLive)
	c, err := svc.UpdateCampaign(ctx, acme, id, campaignPatch(t, `{"name":"Renamed"}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Renamed" || c.DraftPending {
		t.Errorf("renaming a live campaign: name %q, draftPending %v; want the new name at once and no draft version", c.Name, c.DraftPending)
	}
	c, err = svc.UpdateCampaign(ctx, acme, id, campaignPatch(t, `{"content":{"email":{"subject":"v2 {{context.orderId}}","text":null}}}`), c.Revision)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DraftPending || c.Status != campaign.StatusLive || c.LiveVersion != 1 {
		t.Fatalf("after editing content: %s v%d pending=%v; want live v1 with a pending draft", c.Status, c.LiveVersion, c.DraftPending)
	}
	if c.Draft.Content.Email.Text != "" || c.Draft.Content.Email.HTML == "" {
		t.Errorf("merge patch: text %q should be removed by null, html kept", c.Draft.Content.Email.Text)
	}
	d, err := svc.Detail(ctx, acme, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Live == nil || d.Live.Spec.Content.Email.Subject != "Order {{context.orderId}}" || d.Draft == nil || d.Draft.Content.Email.Subject != "v2 {{context.orderId}}" {
		t.Errorf("detail shows live %+v and draft %+v; want live v1 untouched and the draft", d.Live, d.Draft)
	}
	c, err = svc.Activate(ctx, acme, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.LiveVersion != 2 || c.DraftPending {
		t.Errorf("after activation: v%d pending=%v; want v2 and no draft", c.LiveVersion, c.DraftPending)
	}
	v1, _ := store.GetVersion(ctx, acme, id, 1)
	v2, _ := store.GetVersion(ctx, acme, id, 2)
	if v1.Spec.Content.Email.Subject != "Order {{context.orderId}}" || v2.Spec.Content.Email.Subject != "v2 {{context.orderId}}" {
		t.Errorf("versions: v1 %q, v2 %q", v1.Spec.Content.Email.Subject, v2.Spec.Content.Email.Subject)
	}
	p, err := svc.ListVersions(ctx, acme, id, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	var nums []int
	var live []bool
	for _, v := range p.Items {
		nums, live = append(nums, v.Number), append(live, v.Live)
	}
	if diff := cmp.Diff([]int{2, 1}, nums); diff != "" || !live[0] || live[1] {
		t.Errorf("versions newest first %v live %v (-want +got):\n%s", nums, live, diff)
	}
}

func TestEditsThatMayNotHappen(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		from   campaign.Status
		patch  string
		fields []string
	}{
		{"the type is fixed after creation", campaign.StatusDraft, `{"type":"marketing"}`, []string{"type"}},
		{"the channel is fixed once activated", campaign.StatusLive, `{"channel":"sms","content":{"email":null,"sms":{"body":"x"}}}`, []string{"channel"}},
		{"unknown fields are named with their path", campaign.StatusDraft, `{"content":{"email":{"subjet":"x"}}}`, []string{"content.email.subjet"}},
		{"wrong types are named", campaign.StatusDraft, `{"tags":"vip","schedule":{"deliveryRate":"fast"}}`, []string{"schedule.deliveryRate", "tags"}},
		{"an invalid date is named", campaign.StatusDraft, `{"schedule":{"start":"tomorrow"}}`, []string{"schedule.start"}},
		{"server-owned fields cannot be patched", campaign.StatusDraft, `{"status":"live","revision":9}`, []string{"revision", "status"}},
		{"a name over 256 characters is refused", campaign.StatusLive, fmt.Sprintf(`{"name":%q}`, strings.Repeat("n", 257)), []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, id := inStatus(t, tt.from)
			before, _ := store.GetCampaign(ctx, acme, id)
			_, err := svc.UpdateCampaign(ctx, acme, id, campaignPatch(t, tt.patch), 0)
			if diff := cmp.Diff(tt.fields, fieldsOf(t, err, derrors.Invalid)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			after, _ := store.GetCampaign(ctx, acme, id)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a refused patch changed the campaign (-before +after):\n%s", diff)
			}
		})
	}
}

func TestConcurrentPatchesWithTheSameETagLetExactlyOneWin(t *testing.T) {
	ctx := context.Background()
	svc, store, id := inStatus(t, campaign.StatusDraft)
	c, _ := store.GetCampaign(ctx, acme, id)
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, stale := 0, 0
	winner := ""
	for i := range n {
		name := fmt.Sprintf("writer %d", i)
		rename := campaignPatch(t, fmt.Sprintf(`{"name":%q}`, name))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.UpdateCampaign(ctx, acme, id, rename, c.Revision)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				winner = name
			case derrors.Is(err, derrors.Precondition):
				stale++
			default:
				t.Errorf("PATCH: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || stale != n-1 {
		t.Fatalf("%d won and %d got 412; want 1 and %d", wins, stale, n-1)
	}
	got, _ := store.GetCampaign(ctx, acme, id)
	if got.Name != winner || got.Revision != c.Revision+1 {
		t.Errorf("stored %q at revision %d; want the winner %q at %d (no lost update)", got.Name, got.Revision, winner, c.Revision+1)
	}
}

func TestStaleIfMatchIsRefusedOnEveryAction(t *testing.T) {
	ctx := context.Background()
	nothing := campaignPatch(t, `{}`)
	for name, do := range map[string]func(*campaign.Service, string, int) error{
		"patch": func(s *campaign.Service, id string, r int) error {
			_, err := s.UpdateCampaign(ctx, acme, id, nothing, r)
			return err
		},
		"activate": func(s *campaign.Service, id string, r int) error {
			_, err := s.ActivateRevision(ctx, acme, id, r)
			return err
		},
		"stop":    func(s *campaign.Service, id string, r int) error { _, err := s.Stop(ctx, acme, id, r); return err },
		"archive": func(s *campaign.Service, id string, r int) error { _, err := s.Archive(ctx, acme, id, r); return err },
		"delete":  func(s *campaign.Service, id string, r int) error { return s.DeleteCampaign(ctx, acme, id, r) },
	} {
		t.Run(name+" with a stale ETag is a 412", func(t *testing.T) {
			svc, _, id := inStatus(t, campaign.StatusDraft)
			if err := do(svc, id, 99); !derrors.Is(err, derrors.Precondition) {
				t.Errorf("%s(If-Match 99) = %v, want Precondition", name, err)
			}
		})
	}
}

func TestArchiveSetsTheThirtyDayExpiry(t *testing.T) {
	ctx := context.Background()
	svc, store, id := inStatus(t, campaign.StatusStopped)
	c, err := svc.Archive(ctx, acme, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := now.Add(30 * 24 * time.Hour)
	if c.ExpiresAt == nil || !c.ExpiresAt.Equal(want) || !store.VersionsExpireAt(acme, id).Equal(want) {
		t.Errorf("archived campaign expires %v, versions %v; want both %v", c.ExpiresAt, store.VersionsExpireAt(acme, id), want)
	}
}

func TestDuplicateCopiesTheLiveVersionIntoANewDraft(t *testing.T) {
	ctx := context.Background()
	svc, _, id := inStatus(t, campaign.StatusStopped)
	c, err := svc.Duplicate(ctx, acme, id, campaign.DuplicateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == id || c.Status != campaign.StatusDraft || c.Name != "Order confirmation (copy)" || c.Draft.Content.Email.Subject != "Order {{context.orderId}}" {
		t.Errorf("duplicate = %+v", c)
	}
	if _, err := svc.Duplicate(ctx, globex, id, campaign.DuplicateInput{}); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("duplicating another tenant's campaign = %v, want NotFound", err)
	}
}

func TestListCampaignsFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	clock := now
	n := 0
	svc := &campaign.Service{Schemas: contextschema.Compiler{}, Store: store, Now: func() time.Time { clock = clock.Add(time.Second); return clock },
		NewID: func() string { n++; return fmt.Sprintf("id-%02d", n) }}
	for i := range 7 {
		in := validCampaign("")
		in.Name = fmt.Sprintf("Promo %d", i)
		if i%2 == 0 {
			in.Name = fmt.Sprintf("Receipt %d", i)
			in.Tags = []string{"billing"}
		}
		if _, err := svc.CreateCampaign(ctx, acme, in); err != nil {
			t.Fatal(err)
		}
	}
	names := func(p campaign.Page[campaign.Summary]) []string {
		var out []string
		for _, s := range p.Items {
			out = append(out, s.Name)
		}
		return out
	}
	p, err := svc.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Receipt 6", "Promo 5", "Receipt 4"}, names(p)); diff != "" || p.Next == "" {
		t.Errorf("first page, newest first (-want +got):\n%s", diff)
	}
	p, _ = svc.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 3, Cursor: p.Next})
	if diff := cmp.Diff([]string{"Promo 3", "Receipt 2", "Promo 1"}, names(p)); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
	p, _ = svc.ListCampaigns(ctx, acme, campaign.ListFilter{Tag: "billing", NamePrefix: "RECEIPT"})
	if diff := cmp.Diff([]string{"Receipt 6", "Receipt 4", "Receipt 2", "Receipt 0"}, names(p)); diff != "" || p.Next != "" {
		t.Errorf("tag and case-insensitive name prefix (-want +got):\n%s", diff)
	}
	if p, _ := svc.ListCampaigns(ctx, globex, campaign.ListFilter{}); len(p.Items) != 0 {
		t.Errorf("another tenant sees %d campaigns", len(p.Items))
	}
	if _, err := svc.ListCampaigns(ctx, acme, campaign.ListFilter{Status: "paused", Limit: 500}); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("bad filter = %v, want Invalid", err)
	}
}

func TestChannelConfigurationsForEveryChannel(t *testing.T) {
	ctx := context.Background()
	arn := "arn:aws:sns:us-east-1:123456789012:app/APNS/herald"
	tests := []struct {
		name   string
		in     campaign.ConfigInput
		fields []string
	}{
		{"an sms configuration", campaign.ConfigInput{Name: "otp", Channel: campaign.SMS, Category: campaign.Transactional,
			SMS: &campaign.SMSSettings{SenderID: "Herald", OriginationNumber: "+14155550100"}}, nil},
		{"an sms configuration with a bad sender and number", campaign.ConfigInput{Name: "otp", Channel: campaign.SMS, Category: campaign.Transactional,
			SMS: &campaign.SMSSettings{SenderID: "123456789012", OriginationNumber: "0612"}}, []string{"sms.senderId", "sms.originationNumber"}},
		{"an sms configuration with a default region", campaign.ConfigInput{Name: "otp", Channel: campaign.SMS, Category: campaign.Transactional,
			SMS: &campaign.SMSSettings{DefaultRegion: "US"}}, nil},
		{"a default region must be a region with a numbering plan", campaign.ConfigInput{Name: "otp", Channel: campaign.SMS, Category: campaign.Transactional,
			SMS: &campaign.SMSSettings{DefaultRegion: "UK"}}, []string{"sms.defaultRegion"}},
		{"a default region is in upper case", campaign.ConfigInput{Name: "otp", Channel: campaign.SMS, Category: campaign.Transactional,
			SMS: &campaign.SMSSettings{DefaultRegion: "us"}}, []string{"sms.defaultRegion"}},
		{"a push configuration", campaign.ConfigInput{Name: "app", Channel: campaign.Push, Category: campaign.Marketing,
			Push: &campaign.PushSettings{Apps: []campaign.PushApp{{AppID: "com.acme", Platform: "APNS", PlatformApplicationARN: arn}}}}, nil},
		{"a push app whose ARN is of another platform or not an ARN", campaign.ConfigInput{Name: "app", Channel: campaign.Push, Category: campaign.Marketing,
			Push: &campaign.PushSettings{Apps: []campaign.PushApp{{AppID: "com.acme", Platform: "GCM", PlatformApplicationARN: arn},
				{AppID: "com.acme", Platform: "APNS", PlatformApplicationARN: "arn:aws:iam::1:role/x"}}}},
			[]string{"push.apps[0].platformApplicationArn", "push.apps[1].platformApplicationArn"}},
		{"send-to-suppressed is for transactional email", campaign.ConfigInput{Name: "news", Channel: campaign.Email, Category: campaign.Marketing,
			Email: &campaign.EmailSettings{FromAddress: "news@acme.example", SendToSuppressed: true, ListUnsubscribeURL: "http://x.example/u"}},
			[]string{"email.listUnsubscribeUrl", "email.sendToSuppressed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newService(memory.New()).CreateConfig(ctx, acme, tt.in)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("CreateConfig: %v", err)
				}
				return
			}
			if diff := cmp.Diff(tt.fields, fieldsOf(t, err, derrors.Invalid)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAConfigurationInUseCannotBeDeleted(t *testing.T) {
	ctx := context.Background()
	svc, store, id := inStatus(t, campaign.StatusLive)
	c, _ := store.GetCampaign(ctx, acme, id)
	cfgID := c.Draft.ChannelConfigID
	if err := svc.DeleteConfig(ctx, acme, cfgID, 0); !derrors.Is(err, derrors.Conflict) {
		t.Fatalf("deleting the configuration of a live campaign = %v, want Conflict", err)
	}
	cfg, err := svc.UpdateConfig(ctx, acme, cfgID, configPatch(t, `{"email":{"fromName":"Acme Shop"}}`), 1)
	if err != nil || cfg.Revision != 2 || cfg.Email.FromName != "Acme Shop" || cfg.Email.FromAddress != "orders@acme.example" {
		t.Fatalf("PATCH configuration = %+v, %v", cfg, err)
	}
	if _, err := svc.UpdateConfig(ctx, acme, cfgID, configPatch(t, `{"category":"marketing"}`), 0); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("changing the category = %v, want Invalid", err)
	}
	if err := svc.DeleteConfig(ctx, acme, cfgID, 1); !derrors.Is(err, derrors.Precondition) {
		t.Errorf("delete with a stale ETag = %v, want Precondition", err)
	}
	if _, err := svc.Stop(ctx, acme, id, 0); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteConfig(ctx, acme, cfgID, 0); err != nil {
		t.Fatalf("deleting the configuration of a stopped campaign: %v", err)
	}
	if _, err := svc.GetConfig(ctx, acme, cfgID); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("deleted configuration is still there: %v", err)
	}
}

func TestStoredBodiesKeepJSONShapes(t *testing.T) {
	// The detail view omits the draft once it is frozen and has no
	// pending edits.
	ctx := context.Background()
	svc, _, id := inStatus(t, campaign.StatusLive)
	d, err := svc.Detail(ctx, acme, id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if _, ok := m["draft"]; ok {
		t.Errorf("a live campaign without edits shows a draft: %s", b)
	}
	if d.ETag() != `"2"` {
		t.Errorf("ETag = %s, want \"2\"", d.ETag())
	}
}
