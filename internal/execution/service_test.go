package execution_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	acme = tenant.Tenant{Org: "acme", Sandbox: "prod"}
	now  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// putCampaign stores campaign id in status st; unless st is draft it
// also stores version 1 of type typ with spec, activated at now.
func putCampaign(tb testing.TB, store *memory.Store, id string, st campaign.Status, typ campaign.Type, spec campaign.Spec) {
	tb.Helper()
	c := campaign.Campaign{ID: id, Name: id, Type: typ, Channel: campaign.Email, Status: st, Draft: spec}
	if st != campaign.StatusDraft {
		c.LiveVersion = 1
	}
	if err := store.SeedCampaign(acme, c, now); err != nil {
		tb.Fatal(err)
	}
}

func newService(store *memory.Store, q *memory.Queue) *execution.Unitary {
	return &execution.Unitary{Schemas: contextschema.Compiler{}, Store: store, Campaigns: store, Profiles: store, Queue: q,
		Now: func() time.Time { return now }, NewID: func() string { return "ex-1" }}
}

func TestUnitaryRefusesCampaignsThatCannotBeTriggered(t *testing.T) {
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	tests := []struct {
		name   string
		status campaign.Status
		typ    campaign.Type
		sched  campaign.Schedule
		kind   derrors.Kind
		detail string
	}{
		{"a draft campaign is a conflict", campaign.StatusDraft, campaign.Transactional, campaign.Schedule{}, derrors.Conflict, "is draft"},
		{"a stopped campaign is a conflict", campaign.StatusStopped, campaign.Transactional, campaign.Schedule{}, derrors.Conflict, "is stopped"},
		{"a campaign before its start is a conflict", campaign.StatusLive, campaign.Transactional, campaign.Schedule{Start: &future}, derrors.Conflict, "starts at"},
		{"a campaign after its end is a conflict", campaign.StatusLive, campaign.Transactional, campaign.Schedule{End: &past}, derrors.Conflict, "ended at"},
		{"a campaign ending right now is a conflict", campaign.StatusLive, campaign.Transactional, campaign.Schedule{End: &now}, derrors.Conflict, "ended at"},
		{"a marketing campaign is a conflict", campaign.StatusLive, campaign.Marketing, campaign.Schedule{}, derrors.Conflict, "marketing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, q := memory.New(), &memory.Queue{}
			putCampaign(t, store, "camp-1", tt.status, tt.typ, campaign.Spec{Schedule: tt.sched})
			req := validRequest(1)
			req.Recipients[0].Type = delivery.TypeExternal
			_, err := newService(store, q).Execute(context.Background(), acme, "hk_1", req)
			var de *derrors.Error
			if !errors.As(err, &de) || de.Kind != tt.kind || !strings.Contains(de.Detail, tt.detail) {
				t.Fatalf("Unitary() error = %v, want kind %d mentioning %q", err, tt.kind, tt.detail)
			}
			if n := store.Executions(); n != 0 {
				t.Errorf("Unitary() stored %d executions, want 0", n)
			}
			if jobs := q.Jobs(); len(jobs) != 0 {
				t.Errorf("Unitary() enqueued %d jobs, want 0", len(jobs))
			}
		})
	}
}

func TestUnitaryInsideItsScheduleIsAccepted(t *testing.T) {
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	store, q := memory.New(), &memory.Queue{}
	putCampaign(t, store, "camp-1", campaign.StatusLive, campaign.Transactional, campaign.Spec{Schedule: campaign.Schedule{Start: &past, End: &future}})
	req := validRequest(1)
	req.Recipients[0].Type = delivery.TypeExternal
	if _, err := newService(store, q).Execute(context.Background(), acme, "hk_1", req); err != nil {
		t.Fatalf("Unitary: %v", err)
	}
	if n := len(q.Jobs()); n != 1 {
		t.Errorf("enqueued %d jobs, want 1", n)
	}
}

func TestUnitaryCreatesMissingProfilesWhenAllowed(t *testing.T) {
	store, q := memory.New(), &memory.Queue{}
	putCampaign(t, store, "camp-1", campaign.StatusLive, campaign.Transactional,
		campaign.Spec{Audience: campaign.Audience{Namespace: "crmId", CreateProfiles: true}})
	existing := profile.Profile{Namespace: "crmId", ID: "1", Attributes: map[string]any{"tier": "gold"}, CreatedAt: now.Add(-time.Hour)}
	if err := store.Put(context.Background(), acme, existing); err != nil {
		t.Fatal(err)
	}
	req := execution.UnitaryRequest{RequestID: "r", CampaignID: "camp-1", Recipients: []execution.Recipient{
		{Type: "aep", UserID: "1", Namespace: "crmId"},
		{Type: "aep", UserID: "2", Namespace: "crmId", Profile: toObject(map[string]any{"tier": "silver"})},
		{Type: "external", UserID: "3", Namespace: "crmId"},
	}}
	if _, err := newService(store, q).Execute(context.Background(), acme, "hk_1", req); err != nil {
		t.Fatalf("Unitary: %v", err)
	}
	got, err := store.BatchGet(context.Background(), acme, []profile.Identity{crm("1"), crm("2"), crm("3")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[profile.Identity]profile.Profile{
		crm("1"): existing,
		// The call's profile is for rendering only: never stored.
		crm("2"): {Namespace: "crmId", ID: "2", Attributes: map[string]any{}, Identities: map[string]string{"crmId": "2"}, CreatedAt: now, UpdatedAt: now},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profiles after the call (-want +got):\n%s", diff)
	}
}

func crm(id string) profile.Identity { return profile.Identity{Namespace: "crmId", ID: id} }

func TestUnitaryJobs(t *testing.T) {
	store, q := memory.New(), &memory.Queue{}
	putCampaign(t, store, "camp-1", campaign.StatusLive, campaign.Transactional, campaign.Spec{})
	req := execution.UnitaryRequest{RequestID: "r", CampaignID: "camp-1", Recipients: []execution.Recipient{
		{Type: "external", UserID: "jane@example.com", Namespace: "email",
			ChannelData: &execution.ChannelData{EmailAddress: "jane+x@example.com"},
			Profile:     toObject(map[string]any{"firstName": "Jane"}), Context: toObject(map[string]any{"orderId": "A1"})},
		{Type: "external", UserID: "42", Namespace: "crmId"},
	}}
	resp, err := newService(store, q).Execute(context.Background(), acme, "hk_1", req)
	if err != nil {
		t.Fatalf("Unitary: %v", err)
	}
	wantResp := execution.Response{ExecutionID: "ex-1", RequestID: "r", CreatedAt: now, CreatedBy: "hk_1", ModifiedAt: now, ModifiedBy: "hk_1"}
	if diff := cmp.Diff(wantResp, resp); diff != "" {
		t.Errorf("Unitary() response (-want +got):\n%s", diff)
	}
	// The call's recipients travel as one job.
	want := []delivery.Job{{Tenant: acme, ExecutionID: "ex-1", CampaignID: "camp-1", Version: 1, Channel: campaign.Email,
		Ledger: delivery.LedgerV2, Recipients: []delivery.Recipient{
			{Type: "external", UserID: "jane@example.com", Namespace: "email", Email: "jane+x@example.com",
				Profile: toObject(map[string]any{"firstName": "Jane"}), Context: toObject(map[string]any{"orderId": "A1"})},
			{Type: "external", UserID: "42", Namespace: "crmId"},
		}}}
	if diff := cmp.Diff(want, q.Jobs()); diff != "" {
		t.Errorf("enqueued jobs (-want +got):\n%s", diff)
	}
}

func TestUnitaryReplayIgnoresKeyOrderButNotContent(t *testing.T) {
	store, q := memory.New(), &memory.Queue{}
	putCampaign(t, store, "camp-1", campaign.StatusLive, campaign.Transactional, campaign.Spec{})
	svc := newService(store, q)
	req := validRequest(1)
	req.Recipients[0].Type = "external"
	req.Recipients[0].Context = parseObject(t, `{"a":"1","b":"2"}`)
	first, err := svc.Execute(context.Background(), acme, "hk_1", req)
	if err != nil {
		t.Fatalf("Unitary: %v", err)
	}
	same := validRequest(1)
	same.Recipients[0].Type = "external"
	same.Recipients[0].Context = parseObject(t, `{"b":"2","a":"1"}`)
	again, err := svc.Execute(context.Background(), acme, "hk_2", same)
	if err != nil {
		t.Fatalf("Unitary(same request): %v", err)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("replayed response (-want +got):\n%s", diff)
	}
	same.Recipients[0].Context = parseObject(t, `{"b":"2","a":"changed"}`)
	if _, err := svc.Execute(context.Background(), acme, "hk_1", same); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("Unitary(same requestId, other body) error = %v, want Conflict", err)
	}
	if n, jobs := store.Executions(), len(q.Jobs()); n != 1 || jobs != 1 {
		t.Errorf("after three calls: %d executions and %d jobs, want 1 and 1", n, jobs)
	}
}

func TestUnitaryChecksContextAgainstTheCampaignsSchema(t *testing.T) {
	schema := []byte(`{"type":"object","required":["orderId"],"properties":{"orderId":{"type":"string"},"total":{"type":"number"}}}`)
	tests := []struct {
		name    string
		context map[string]any
		field   string // the field the 400 names; "" for accepted
	}{
		{"a conforming context is accepted", map[string]any{"orderId": "A-1", "total": json.Number("12.5")}, ""},
		{"a missing required property is refused", map[string]any{"total": json.Number("3")}, "recipients[0].context"},
		{"a value of the wrong type is refused", map[string]any{"orderId": json.Number("7")}, "recipients[0].context"},
		{"no context at all is checked as an empty object", nil, "recipients[0].context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, q := memory.New(), &memory.Queue{}
			putCampaign(t, store, "camp-1", campaign.StatusLive, campaign.Transactional, campaign.Spec{ContextSchema: schema})
			req := validRequest(1)
			req.Recipients[0].Type = delivery.TypeExternal
			req.Recipients[0].Context = toObject(tt.context)
			_, err := newService(store, q).Execute(context.Background(), acme, "hk_1", req)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Unitary() = %v, want accepted", err)
				}
				return
			}
			var de *derrors.Error
			if !errors.As(err, &de) || de.Kind != derrors.Invalid || len(de.Fields) != 1 || de.Fields[0].Field != tt.field {
				t.Fatalf("Unitary() error = %v, want a 400 naming %s", err, tt.field)
			}
			if n, jobs := store.Executions(), len(q.Jobs()); n != 0 || jobs != 0 {
				t.Errorf("Unitary() stored %d executions and queued %d jobs, want none", n, jobs)
			}
		})
	}
}
