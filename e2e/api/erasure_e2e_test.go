package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/erasure"
)

// A person seeded everywhere a send and the management API put them is
// erased, and then nothing in the table names them but the suppression
// entry the erasure keeps (docs/operations.md#erasure).
func TestAnErasedPersonIsFoundNowhereButInTheSuppressionList(t *testing.T) {
	f := newFixture(t, false)
	const addr = "erin.erasure-e2e@example.com"
	f.putProfile(addr, "Erin")
	status, body := do(t, "POST", "/im/executions/unitary", f.Headers(), f.unitary("erase-1",
		map[string]any{"type": "aep", "namespace": "email", "userId": addr, "context": orderContext("E-1")}))
	if status != 202 {
		t.Fatalf("unitary = %d %s", status, body)
	}
	drain(t)
	if len(sentTo(t, addr)) != 1 {
		t.Fatalf("no email was sent to the seeded person")
	}
	var aud struct{ ID string }
	f.mustDo("POST", "/audiences", map[string]any{"name": "Erasure", "description": "seeded"}, 201, &aud)
	f.mustDo("POST", "/audiences/"+aud.ID+"/members", map[string]any{"members": []any{map[string]any{"namespace": "email", "id": addr}}}, 200, nil)
	f.mustDo("PUT", "/suppressions/email/"+addr, map[string]any{"reason": "manual"}, 200, nil)

	var got erasure.Result
	f.mustDo("DELETE", "/profiles/email/"+addr, nil, 200, &got)
	want := erasure.NewResult()
	want.Erased[erasure.Profiles], want.Erased[erasure.RecipientLists], want.Erased[erasure.AudienceMemberships] = 1, 1, 1
	want.Pseudonymised[erasure.LedgerEntries], want.Kept[erasure.Suppressions] = 1, 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DELETE /profiles (-want +got):\n%s", diff)
	}
	var again erasure.Result
	f.mustDo("POST", "/erasures", map[string]any{"namespace": "email", "id": addr}, 200, &again)
	if again.Pseudonymised[erasure.LedgerEntries] != 0 || again.Erased[erasure.RecipientLists] != 0 || again.Erased[erasure.Profiles] != 0 {
		t.Errorf("second erasure = %+v, want nothing more erased", again)
	}

	// Every item of the table, every attribute, at any depth.
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(cloud.AWS)
	p := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(cloud.Stack.Tables[0].Name)})
	suppressions := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range out.Items {
			if !mentionsAddress(item, addr) {
				continue
			}
			pk, sk := item["pk"].(*ddbtypes.AttributeValueMemberS).Value, item["sk"].(*ddbtypes.AttributeValueMemberS).Value
			if pk == "T#"+f.Tenant.Key()+"#SUPP" && sk == "email#"+addr {
				suppressions++
				continue
			}
			t.Errorf("after erasure, item %s / %s still names the person", pk, sk)
		}
	}
	if suppressions != 1 {
		t.Errorf("suppression entries naming the person = %d, want the one kept", suppressions)
	}
}

func mentionsAddress(item map[string]ddbtypes.AttributeValue, addr string) bool {
	for _, v := range item {
		if valueMentions(v, addr) {
			return true
		}
	}
	return false
}

func valueMentions(v ddbtypes.AttributeValue, addr string) bool {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return strings.Contains(strings.ToLower(v.Value), addr)
	case *ddbtypes.AttributeValueMemberB:
		return strings.Contains(strings.ToLower(string(v.Value)), addr)
	case *ddbtypes.AttributeValueMemberSS:
		for _, s := range v.Value {
			if strings.Contains(strings.ToLower(s), addr) {
				return true
			}
		}
	case *ddbtypes.AttributeValueMemberL:
		for _, x := range v.Value {
			if valueMentions(x, addr) {
				return true
			}
		}
	case *ddbtypes.AttributeValueMemberM:
		return mentionsAddress(v.Value, addr)
	}
	return false
}
