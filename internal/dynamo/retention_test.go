package dynamo_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/webhook"
)

// itemKind names the kind of a stored item from its keys, as the package
// doc's key schema does; "" for a kind this test does not know, which
// fails it: a new kind must be placed in retentionKinds or neverExpire.
func itemKind(pk, sk string) string {
	switch {
	case strings.HasPrefix(pk, "KEY#"):
		return "API key"
	case pk == "KEYS":
		return "API key index"
	case strings.Contains(pk, "#CHCFG#"):
		return "channel config"
	case strings.Contains(pk, "#CAMP#") && sk == "CAMP":
		return "campaign"
	case strings.Contains(pk, "#CAMP#") && strings.HasPrefix(sk, "V#"):
		return "campaign version"
	case strings.Contains(pk, "#CAMP#") && strings.HasPrefix(sk, "XI#"):
		return "campaign execution"
	case strings.Contains(pk, "#PROF#"):
		return "profile " + strings.ToLower(sk)
	case strings.HasSuffix(pk, "#SUPP"):
		return "suppression"
	case strings.Contains(pk, "#REQ#"):
		return "idempotency record"
	case strings.Contains(pk, "#EXEC#") && sk == "EXEC":
		return "execution"
	case strings.Contains(pk, "#EXEC#") && strings.HasPrefix(sk, "R#"):
		return "ledger entry"
	case strings.Contains(pk, "#EXEC#") && strings.HasPrefix(sk, "D#"):
		return "recipient list"
	case strings.Contains(pk, "#EXEC#") && strings.HasPrefix(sk, "T#"):
		return "execution counters"
	case strings.Contains(pk, "#EXEC#") && strings.HasPrefix(sk, "F#"):
		return "feedback counters"
	case strings.Contains(pk, "#EXEC#") && strings.HasPrefix(sk, "K#"):
		return "parked job"
	case strings.HasSuffix(pk, "#AUDS"):
		return "audience header"
	case strings.Contains(pk, "#AUD#"):
		return "audience member"
	case strings.Contains(pk, "#REPORT#") && strings.HasPrefix(sk, "A#"):
		return "campaign report all-time"
	case strings.Contains(pk, "#REPORT#") && strings.HasPrefix(sk, "H#"):
		return "campaign report hour"
	case strings.Contains(pk, "#REPUTATION#") && strings.HasPrefix(sk, "H#"):
		return "reputation window"
	case strings.HasSuffix(pk, "#WH"):
		return "feedback webhook"
	case strings.HasSuffix(pk, "#WHD") && strings.HasPrefix(sk, "E#"):
		return "webhook delivery"
	case strings.HasSuffix(pk, "#WHD") && strings.HasPrefix(sk, "L#"):
		return "webhook delivery list entry"
	}
	return ""
}

// retentionKinds are the kinds a retention setting expires, and which.
var retentionKinds = map[string]func(config.Retention) time.Duration{
	"execution":                   func(r config.Retention) time.Duration { return r.Executions },
	"campaign execution":          func(r config.Retention) time.Duration { return r.Executions },
	"ledger entry":                func(r config.Retention) time.Duration { return r.Ledger },
	"parked job":                  func(r config.Retention) time.Duration { return r.Ledger },
	"recipient list":              func(r config.Retention) time.Duration { return r.RecipientLists },
	"idempotency record":          func(r config.Retention) time.Duration { return r.Idempotency },
	"webhook delivery":            func(r config.Retention) time.Duration { return r.WebhookDeliveries },
	"webhook delivery list entry": func(r config.Retention) time.Duration { return r.WebhookDeliveries },
	"execution counters":          func(r config.Retention) time.Duration { return r.Counters },
	"feedback counters":           func(r config.Retention) time.Duration { return r.Counters },
}

// neverExpire are the kinds no retention applies to: what configures the
// deployment, what a tenant manages itself, and the suppression list,
// whose addresses are what suppresses. The fixed windows (report hours,
// reputation) expire on their own schedule, not a setting's.
var neverExpire = map[string]bool{"API key": true, "API key index": true, "channel config": true, "campaign": true, "campaign version": true,
	"profile prof": true, "profile alias": true, "suppression": true, "audience header": true, "audience member": true,
	"feedback webhook": true, "campaign report all-time": true}

var fixedWindows = map[string]bool{"campaign report hour": true, "reputation window": true}

func TestRetentionAttributesAreSetOnEveryItemKindThatHasOne(t *testing.T) {
	ret := config.Retention{Executions: 30 * config.Day, Ledger: 60 * config.Day, RecipientLists: 20 * config.Day,
		Idempotency: 2 * config.Day, WebhookDeliveries: 3 * config.Day, Counters: 40 * config.Day}
	s, api, table := newRawStore(t)
	s.WithRetention(ret)
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Second)

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("PutKey", s.PutKey(ctx, "hash-1", auth.Key{ID: "hk_1", Tenant: acme, Scopes: []auth.Scope{"manage"}, CreatedAt: start}))
	must("CreateIfAbsent", s.CreateIfAbsent(ctx, acme, profile.Profile{Namespace: "crmId", ID: "cust-1", Identities: map[string]string{"email": "x@example.com"},
		CreatedAt: start, UpdatedAt: start}))
	_, _, err := s.AddSuppression(ctx, acme, suppression.Entry{Channel: suppression.Email, Address: "x@example.com", Reason: suppression.Manual, CreatedAt: start})
	must("AddSuppression", err)
	must("CreateAudience", s.CreateAudience(ctx, acme, audience.Audience{ID: "a1", Name: "A", CreatedAt: start, UpdatedAt: start}))
	_, err = s.AddMembers(ctx, acme, "a1", []audience.Member{{Namespace: "crmId", ID: "cust-1"}})
	must("AddMembers", err)
	must("CreateWebhook", s.CreateWebhook(ctx, acme, webhook.Config{Name: "w", URL: "https://hooks.example.com/h", Secret: "0123456789abcdef0123",
		CreatedAt: start, UpdatedAt: start}))

	rec := execution.Record{RequestID: "r1", BodyHash: "h", Version: 1, ExpiresAt: start.Add(execution.IdempotencyTTL),
		Response: execution.Response{ExecutionID: "e1", RequestID: "r1", CreatedAt: start, CreatedBy: "hk_1", ModifiedAt: start, ModifiedBy: "hk_1"}}
	must("Begin", s.Begin(ctx, acme, rec, execution.Execution{ID: "e1", Kind: "unitary", RequestID: "r1", CampaignID: "c1", Version: 1,
		RecipientCount: 1, CreatedAt: start, CreatedBy: "hk_1"}))
	rec2 := rec
	rec2.RequestID, rec2.Response.ExecutionID, rec2.Response.RequestID = "r2", "e2", "r2"
	must("BeginAudience", s.BeginAudience(ctx, acme, rec2, execution.AudienceExecution{ID: "e2", RequestID: "r2", CampaignID: "c1", Version: 1,
		Channel: campaign.Email, AudienceID: "a1", CreatedAt: start, CreatedBy: "hk_1", State: "pending"}))
	must("PutExecution", s.PutExecution(ctx, acme, execution.Execution{ID: "proof-1", Kind: "proof", CampaignID: "c1", CreatedAt: start, CreatedBy: "hk_1"}))

	k := delivery.Key{ExecutionID: "e1", Namespace: "crmId", UserID: "cust-1", Channel: campaign.Email}
	e := delivery.Entry{Key: k, CampaignID: "c1", Version: 1, State: delivery.Claimed, Token: "tok", Tag: delivery.Tag(acme, k), ClaimedAt: start}
	_, ok, err := s.Claim(ctx, acme, e)
	if err != nil || !ok {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	_, err = s.ClaimAddress(ctx, acme, "e1", campaign.Email, "digest-1", e.Tag)
	must("ClaimAddress", err)
	e.State, e.Outcome, e.FinishedAt = delivery.Done, delivery.Sent, start
	must("Finish", s.Finish(ctx, acme, e))
	must("RecordOutcomes", s.RecordOutcomes(ctx, acme, []delivery.Entry{{Key: delivery.Key{ExecutionID: "e2", Namespace: "crmId", UserID: "cust-2",
		Channel: campaign.Email}, CampaignID: "c1", Version: 1, State: delivery.Done, Outcome: delivery.Outcome("excluded:window"), ClaimedAt: start}}))
	must("Tally", s.Tally(ctx, acme, "e1", 0, e.Tag, delivery.Sent, ""))
	must("Tally again", s.Tally(ctx, acme, "e1", 1, "other-tag", delivery.Sent, ""))
	must("Tally change", s.Tally(ctx, acme, "e1", 1, "other-tag", delivery.Failed("x"), ""))
	must("Park", s.Park(ctx, acme, delivery.ParkedJob{ID: "p1", Job: delivery.Job{Tenant: acme, ExecutionID: "e1", CampaignID: "c1", Version: 1},
		Reason: "test", ParkedAt: start}))
	must("Advance", s.Advance(ctx, acme, feedback.Change{Entry: e, Events: []string{"delivery"}, DeliveryState: feedback.StateDelivered,
		Counters: []string{feedback.CountDelivered}, At: start}))
	_, _, err = s.ClaimDelivery(ctx, acme, webhook.Delivery{EventID: "ev-1", Channel: "email", EventTimestamp: start, Status: webhook.Pending,
		CreatedAt: start, WindowStart: start, Message: []byte(`{}`), ExpiresAt: start.Add(webhook.DeliveryTTL)}, start, start.Add(time.Minute))
	must("ClaimDelivery", err)

	seen := map[string]bool{}
	p := dynamodb.NewScanPaginator(api, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range out.Items {
			pk, sk := item["pk"].(*types.AttributeValueMemberS).Value, item["sk"].(*types.AttributeValueMemberS).Value
			kind := itemKind(pk, sk)
			seen[kind] = true
			var exp int64 = -1
			if n, ok := item["expiresAt"].(*types.AttributeValueMemberN); ok {
				exp, _ = strconv.ParseInt(n.Value, 10, 64)
			}
			switch keep, ok := retentionKinds[kind]; {
			case kind == "":
				t.Errorf("item %s / %s is of no known kind: add it to retentionKinds or neverExpire", pk, sk)
			case ok:
				// Kept for its retention from a start between start and now.
				lo, hi := start.Add(keep(ret)).Unix(), time.Now().Add(keep(ret)).Unix()+1
				if exp < lo || exp > hi {
					t.Errorf("%s (%s / %s): expiresAt %d, want within [%d, %d] (retention %v)", kind, pk, sk, exp, lo, hi, keep(ret))
				}
			case neverExpire[kind]:
				if exp != -1 {
					t.Errorf("%s (%s / %s) expires at %d, want never", kind, pk, sk, exp)
				}
			case fixedWindows[kind]:
				if exp == -1 {
					t.Errorf("%s (%s / %s) never expires, want its window's expiry", kind, pk, sk)
				}
			default:
				t.Errorf("kind %q is in no list", kind)
			}
		}
	}
	for kind := range retentionKinds {
		if !seen[kind] {
			t.Errorf("no %s was written: the test does not check its retention", kind)
		}
	}
}

func TestNoRetentionKeepsTheKindsItGoverns(t *testing.T) {
	s, api, table := newRawStore(t)
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("PutExecution", s.PutExecution(ctx, acme, execution.Execution{ID: "proof-1", Kind: "proof", CampaignID: "c1", CreatedAt: now, CreatedBy: "hk_1"}))
	out, err := api.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		if _, ok := item["expiresAt"]; ok {
			t.Errorf("item %v has expiresAt with no retention set", item["sk"])
		}
	}
}
