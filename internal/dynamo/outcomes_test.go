package dynamo_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func TestTallyChange(t *testing.T) {
	at := time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC)
	keys := map[string]types.AttributeValue{"pk": s("T#acme#prod#EXEC#ex-1"), "sk": s("T#0003")}
	old := map[string]types.AttributeValue{"pk": keys["pk"], "sk": keys["sk"], "r:a": s("sent"), "n:sent": n("1")}
	cur := map[string]types.AttributeValue{"pk": keys["pk"], "sk": keys["sk"], "r:a": s("sent"), "r:b": s("excluded:suppressed"),
		"n:sent": n("1"), "n:excluded:suppressed": n("1")}
	got, ok, err := dynamo.TallyChange("ev-1", at, keys, old, cur)
	if err != nil || !ok {
		t.Fatalf("TallyChange = %v, %v", ok, err)
	}
	want := tally.Change{ID: "ev-1", Tenant: tenant.Tenant{Org: "acme", Sandbox: "prod"}, ExecutionID: "ex-1", At: at,
		Old: tally.Counts{Recipients: 1, Outcomes: map[string]int64{"sent": 1}},
		New: tally.Counts{Recipients: 2, Outcomes: map[string]int64{"sent": 1, "excluded:suppressed": 1}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TallyChange (-want +got):\n%s", diff)
	}
	for name, k := range map[string]map[string]types.AttributeValue{
		"a ledger entry":          {"pk": s("T#acme#prod#EXEC#ex-1"), "sk": s("R#crm#u1#email")},
		"a campaign report shard": {"pk": s("T#acme#prod#REPORT#c-1"), "sk": s("A#03")},
		"a key of no tenant":      {"pk": s("KEY#abc"), "sk": s("T#0001")},
	} {
		if _, ok, err := dynamo.TallyChange("ev", at, k, nil, nil); ok || err != nil {
			t.Errorf("TallyChange(%s) = %v, %v; want not a counter change", name, ok, err)
		}
	}
}

// A counter item's per-variant counts travel with its outcomes, so the
// campaign counters keep them (o:v:<label>#<outcome>) from the stream.
func TestTallyChangeCarriesTheCountsPerVariant(t *testing.T) {
	at := time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC)
	keys := map[string]types.AttributeValue{"pk": s("T#acme#prod#EXEC#ex-1"), "sk": s("T#0000")}
	cur := map[string]types.AttributeValue{"pk": keys["pk"], "sk": keys["sk"], "r:a": s("sent|B/fr"), "r:b": s("excluded:holdout|holdout/"),
		"n:sent": n("1"), "n:excluded:holdout": n("1"), "n:v:B/fr#sent": n("1"), "n:v:holdout/#excluded:holdout": n("1")}
	got, ok, err := dynamo.TallyChange("ev-1", at, keys, nil, cur)
	if err != nil || !ok {
		t.Fatalf("TallyChange = %v, %v", ok, err)
	}
	want := tally.Delta{Targeted: 2, Outcomes: map[string]int64{"sent": 1, "excluded:holdout": 1, "v:B/fr#sent": 1, "v:holdout/#excluded:holdout": 1}}
	if diff := cmp.Diff(want, tally.Diff(got.Old, got.New)); diff != "" {
		t.Errorf("what the change adds to the campaign (-want +got):\n%s", diff)
	}
}
