package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
)

// The same contract runs on the DynamoDB store (against moto) and on the
// memory fake, so unit tests built on the fake exercise the real rules.
type stores interface {
	profile.Store
	suppression.Store
}

func eachStore(t *testing.T, run func(t *testing.T, s stores)) {
	t.Run("dynamo", func(t *testing.T) { run(t, newStore(t)) })
	t.Run("memory", func(t *testing.T) { run(t, memory.New()) })
}

func TestProfilesAreFoundByAnyIdentityAndIdentitiesBelongToOneProfile(t *testing.T) {
	eachStore(t, func(t *testing.T, s stores) {
		ctx := context.Background()
		jane := profile.Profile{Namespace: "crmId", ID: "42", Attributes: map[string]any{"name": "Jane"},
			Identities: map[string]string{"email": "jane@example.com", "phone": "+14155550100"}, CreatedAt: now, UpdatedAt: now}
		if err := s.Put(ctx, acme, jane); err != nil {
			t.Fatal(err)
		}
		for _, id := range []profile.Identity{{Namespace: "crmId", ID: "42"}, {Namespace: "email", ID: "jane@example.com"}, {Namespace: "phone", ID: "+14155550100"}} {
			got, err := s.Get(ctx, acme, id)
			if err != nil || got.ID != "42" {
				t.Errorf("Get(%v) = %v, %v; want profile 42", id, got.ID, err)
			}
		}
		if _, err := s.Get(ctx, other, profile.Identity{Namespace: "email", ID: "jane@example.com"}); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("another tenant found the profile: %v", err)
		}
		got, err := s.BatchGet(ctx, acme, []profile.Identity{{Namespace: "email", ID: "jane@example.com"}, {Namespace: "crmId", ID: "42"}, {Namespace: "crmId", ID: "nobody"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[profile.Identity{Namespace: "email", ID: "jane@example.com"}].ID != "42" {
			t.Errorf("BatchGet = %v, want both identities of 42 and not the unknown one", got)
		}

		// Another profile may not take Jane's email, nor be created under it.
		bob := profile.Profile{Namespace: "crmId", ID: "43", Identities: map[string]string{"email": "jane@example.com"}, CreatedAt: now, UpdatedAt: now}
		if err := s.Put(ctx, acme, bob); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("Put(bob with jane's email) = %v, want Conflict", err)
		}
		if err := s.Put(ctx, acme, profile.Profile{Namespace: "email", ID: "jane@example.com", CreatedAt: now, UpdatedAt: now}); !derrors.Is(err, derrors.Conflict) {
			t.Errorf("Put(a profile whose primary is jane's email) = %v, want Conflict", err)
		}
		if _, err := s.Get(ctx, acme, profile.Identity{Namespace: "crmId", ID: "43"}); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("the refused profile was stored: %v", err)
		}

		// Dropping an identity frees it.
		jane.Identities = map[string]string{"phone": "+14155550100"}
		jane.UpdatedAt = now.Add(time.Second)
		if err := s.Put(ctx, acme, jane); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, acme, profile.Identity{Namespace: "email", ID: "jane@example.com"}); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("a dropped identity still finds the profile: %v", err)
		}
		if err := s.Put(ctx, acme, bob); err != nil {
			t.Errorf("Put(bob) once the email is free: %v", err)
		}
	})
}

func TestProfileUpdateAndErasure(t *testing.T) {
	eachStore(t, func(t *testing.T, s stores) {
		ctx := context.Background()
		p := profile.Profile{Namespace: "crmId", ID: "7", Attributes: map[string]any{"tier": "gold"}, Identities: map[string]string{"email": "seven@example.com"},
			Devices: []profile.Device{{AppID: "app", Platform: "GCM", Token: "t", Enabled: true}}, CreatedAt: now, UpdatedAt: now}
		if err := s.Put(ctx, acme, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.Update(ctx, acme, profile.Identity{Namespace: "email", ID: "seven@example.com"}, func(q *profile.Profile) error {
			q.Devices[0].EndpointARN = "arn:aws:sns:us-east-1:1:endpoint/GCM/app/1"
			q.Consent = map[string]string{"sms": "n"}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.Get(ctx, acme, p.Identity())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, stored); diff != "" {
			t.Errorf("stored after Update (-returned +stored):\n%s", diff)
		}
		if stored.Devices[0].EndpointARN == "" || stored.Consent["sms"] != "n" || !stored.UpdatedAt.After(now) {
			t.Errorf("Update did not stick: %+v", stored)
		}
		if _, err := s.Update(ctx, acme, profile.Identity{Namespace: "crmId", ID: "none"}, func(*profile.Profile) error { return nil }); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("Update(unknown) = %v, want NotFound", err)
		}

		if err := s.Delete(ctx, acme, profile.Identity{Namespace: "email", ID: "seven@example.com"}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []profile.Identity{{Namespace: "crmId", ID: "7"}, {Namespace: "email", ID: "seven@example.com"}} {
			if _, err := s.Get(ctx, acme, id); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("Get(%v) after erasure = %v, want NotFound", id, err)
			}
		}
		if err := s.Delete(ctx, acme, p.Identity()); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("Delete twice = %v, want NotFound", err)
		}
		// The erased identities are free for a new profile.
		if err := s.Put(ctx, acme, profile.Profile{Namespace: "email", ID: "seven@example.com", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Errorf("Put after erasure: %v", err)
		}
	})
}

func TestPutBatchBeyondOneWriteChunkReportsEachProfile(t *testing.T) {
	eachStore(t, func(t *testing.T, s stores) {
		ctx := context.Background()
		if err := s.Put(ctx, acme, profile.Profile{Namespace: "crmId", ID: "owner", Identities: map[string]string{"email": "taken@example.com"}, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		var ps []profile.Profile
		for i := range 60 {
			ps = append(ps, profile.Profile{Namespace: "crmId", ID: fmt.Sprint("b", i), Attributes: map[string]any{"i": i}, CreatedAt: now, UpdatedAt: now})
		}
		ps[10].Identities = map[string]string{"email": "b10@example.com"}
		ps[20].Identities = map[string]string{"email": "taken@example.com"}
		errs := s.PutBatch(ctx, acme, ps)
		for i, err := range errs {
			switch {
			case i == 20 && !derrors.Is(err, derrors.Conflict):
				t.Errorf("profile 20 (a taken identity): %v, want Conflict", err)
			case i != 20 && err != nil:
				t.Errorf("profile %d: %v", i, err)
			}
		}
		var ids []profile.Identity
		for _, p := range ps {
			ids = append(ids, p.Identity())
		}
		got, err := s.BatchGet(ctx, acme, append(ids, profile.Identity{Namespace: "email", ID: "b10@example.com"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 60 || got[profile.Identity{Namespace: "email", ID: "b10@example.com"}].ID != "b10" {
			t.Errorf("BatchGet found %d of 59 stored profiles plus b10's email", len(got))
		}
	})
}

func TestSuppressionListPagesAndAddIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, s stores) {
		ctx := context.Background()
		for i := range 5 {
			if err := s.PutSuppression(ctx, acme, suppression.Entry{Channel: suppression.Email, Address: fmt.Sprintf("u%d@example.com", i), Reason: suppression.Bounce, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutSuppression(ctx, acme, suppression.Entry{Channel: suppression.SMS, Address: "+14155550100", Reason: suppression.Manual, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutSuppression(ctx, other, suppression.Entry{Channel: suppression.Email, Address: "x@example.com", Reason: suppression.Manual, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		var all []string
		cursor := ""
		for range 10 {
			p, err := s.ListSuppressions(ctx, acme, suppression.Email, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Items {
				all = append(all, e.Address)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		want := []string{"u0@example.com", "u1@example.com", "u2@example.com", "u3@example.com", "u4@example.com"}
		if diff := cmp.Diff(want, all); diff != "" {
			t.Errorf("paged email list (-want +got):\n%s", diff)
		}
		p, err := s.ListSuppressions(ctx, acme, "", 100, "")
		if err != nil || len(p.Items) != 6 {
			t.Errorf("whole list: %d items, %v; want 6 (this tenant only)", len(p.Items), err)
		}

		e, created, err := s.AddSuppression(ctx, acme, suppression.Entry{Channel: suppression.Email, Address: "u1@example.com", Reason: suppression.Unsubscribe, CreatedAt: now.Add(time.Hour)})
		if err != nil || created || e.Reason != suppression.Bounce {
			t.Errorf("AddSuppression(existing) = %+v, %v, %v; want the bounce kept", e, created, err)
		}
		if err := s.DeleteSuppression(ctx, acme, suppression.Email, "u1@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSuppression(ctx, acme, suppression.Email, "u1@example.com"); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("Get after delete = %v", err)
		}
		if err := s.DeleteSuppression(ctx, acme, suppression.Email, "u1@example.com"); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("Delete twice = %v, want NotFound", err)
		}
	})
}

// A value the domain should have refused never becomes a retryable
// failure: DynamoDB's refusal is derrors.Invalid, and in a batch it fails
// that profile alone.
func TestProfilesDynamoDBRefusesAreInvalidAndFailOnlyThemselves(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	bad := profile.Profile{Namespace: "crmId", ID: "bad", Attributes: map[string]any{"n": json.Number("1e308")}, CreatedAt: now, UpdatedAt: now}
	if err := s.Put(ctx, acme, bad); !derrors.Is(err, derrors.Invalid) {
		t.Errorf("Put(1e308) = %v, want Invalid", err)
	}
	ps := []profile.Profile{
		{Namespace: "crmId", ID: "a", Attributes: map[string]any{"n": json.Number("1")}, CreatedAt: now, UpdatedAt: now},
		bad,
		{Namespace: "crmId", ID: "c", Attributes: map[string]any{"n": json.Number("3")}, CreatedAt: now, UpdatedAt: now},
	}
	errs := s.PutBatch(ctx, acme, ps)
	if !derrors.Is(errs[1], derrors.Invalid) || errs[0] != nil || errs[2] != nil {
		t.Errorf("PutBatch errors = %v, want [nil Invalid nil]", errs)
	}
	got, err := s.BatchGet(ctx, acme, []profile.Identity{ps[0].Identity(), ps[1].Identity(), ps[2].Identity()})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("BatchGet found %d profiles, want 2 (a and c)", len(got))
	}
}

// Before issue 10 a device's endpoint was stored as endpointArn, which a
// request could set to anything (a topic, another tenant's endpoint).
// Herald now keeps its own under another name and never reads the old
// one: the endpoint is made again from the token.
func TestAnEndpointARNStoredBeforeIsNeverRead(t *testing.T) {
	s, api, table := newRawStore(t)
	ctx := context.Background()
	p := profile.Profile{Namespace: "crmId", ID: "legacy", Attributes: map[string]any{},
		Devices: []profile.Device{{AppID: "shop-ios", Platform: "APNS", Token: "t", Enabled: true}}, CreatedAt: now, UpdatedAt: now}
	if err := s.Put(ctx, acme, p); err != nil {
		t.Fatal(err)
	}
	out, err := api.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: aws.String("sk = :sk AND id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":sk": &types.AttributeValueMemberS{Value: "PROF"}, ":id": &types.AttributeValueMemberS{Value: "legacy"}}})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("scan for the profile item: %d items, %v", len(out.Items), err)
	}
	key := map[string]types.AttributeValue{"pk": out.Items[0]["pk"], "sk": out.Items[0]["sk"]}
	topic := "arn:aws:sns:us-east-1:123456789012:herald-internal-alerts"
	if _, err := api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
		UpdateExpression:          aws.String("SET devices[0].endpointArn = :arn"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":arn": &types.AttributeValueMemberS{Value: topic}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, acme, p.Identity())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.Devices, got.Devices); diff != "" {
		t.Errorf("devices read back (-want +got):\n%s", diff)
	}
	// The next write of the profile drops the old attribute.
	if _, err := s.Update(ctx, acme, p.Identity(), func(q *profile.Profile) error {
		q.Devices[0].EndpointARN = "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/shop-ios/1"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	item, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	dv := item.Item["devices"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberM).Value
	if _, ok := dv["endpointArn"]; ok {
		t.Errorf("the old endpointArn is still stored after a write: %v", dv["endpointArn"])
	}
	if v, ok := dv["heraldEndpointArn"].(*types.AttributeValueMemberS); !ok || !strings.HasPrefix(v.Value, "arn:aws:sns:us-east-1:123456789012:endpoint/") {
		t.Errorf("Herald's endpoint is stored as %v, want heraldEndpointArn", dv["heraldEndpointArn"])
	}
}
