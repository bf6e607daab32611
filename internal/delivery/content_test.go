package delivery_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/render"
)

// dataJSON renders data as the json helper sees it: the profile and
// context a template reads, members in the order #each visits them.
func dataJSON(t *testing.T, data any) string {
	t.Helper()
	tm, err := render.Parse("{{{json this}}}", render.Text)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tm.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestData(t *testing.T) {
	stored := map[string]any{
		"tier":   "gold",
		"person": map[string]any{"name": map[string]any{"firstName": "Jane", "lastName": "Doe"}, "age": 40},
		"tags":   []any{"a"},
	}
	override, err := render.ParseObject([]byte(`{"tags":["b"],"person":{"name":{"firstName":"J"}},"tier":{"level":"platinum"},"new":1}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := render.ParseObject([]byte(`{"orderId":"A1","items":[{"sku":"z"}],"at":"now"}`))
	if err != nil {
		t.Fatal(err)
	}
	// The call's profile wins, objects merge, the stored members come
	// first (a map's, sorted) and the call's new ones after them; the
	// context keeps the call's order.
	want := `{"profile":{"person":{"age":40,"name":{"firstName":"J","lastName":"Doe"}},"tags":["b"],"tier":{"level":"platinum"},"new":1},` +
		`"context":{"orderId":"A1","items":[{"sku":"z"}],"at":"now"}}`
	if got := dataJSON(t, delivery.Data(stored, override, ctx)); got != want {
		t.Errorf("Data() =\n%s\nwant\n%s", got, want)
	}
	wantStored := map[string]any{
		"tier":   "gold",
		"person": map[string]any{"name": map[string]any{"firstName": "Jane", "lastName": "Doe"}, "age": 40},
		"tags":   []any{"a"},
	}
	if diff := cmp.Diff(wantStored, stored); diff != "" {
		t.Errorf("Data() modified the stored attributes (-want +got):\n%s", diff)
	}
}

func TestDataWithNothingIsEmptyObjects(t *testing.T) {
	want := `{"profile":{},"context":{}}`
	if got := dataJSON(t, delivery.Data(nil, render.Object{}, nil)); got != want {
		t.Errorf("Data(nil, zero, nil) = %s, want %s", got, want)
	}
	empty, _ := render.ParseObject([]byte(`{}`))
	if got := dataJSON(t, delivery.Data(map[string]any{}, empty, render.Object{})); got != want {
		t.Errorf("Data(empty, {}, zero) = %s, want %s", got, want)
	}
	tm, err := render.Parse("{{#if profile}}p{{/if}}{{#if context}}c{{/if}}", render.Text)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := tm.Render(delivery.Data(nil, render.Object{}, nil)); got != "pc" {
		t.Errorf("absent profile and context render %q, want them truthy as empty objects", got)
	}
}

// TestOldJobsDecode holds a job queued by the code before profile and
// context were decoded into render.Object (maps, encoded with sorted keys)
// to decoding and rendering as it did: jobs in flight during a deploy.
func TestOldJobsDecode(t *testing.T) {
	old := `{"tenant":{"org":"o","sandbox":"prod"},"executionId":"ex-1","campaignId":"c","version":1,` +
		`"recipients":[{"type":"aep","userId":"u","namespace":"crmId","profile":{"person":{"name":{"firstName":"J"}}},` +
		`"context":{"n":12345678901234567890,"note":"<b>&</b>","u":"\u2028"}},{"type":"external","userId":"v","namespace":"email"}],"ledger":2}`
	j, err := delivery.DecodeJob([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	r := j.Recipients[0]
	got := dataJSON(t, delivery.Data(nil, r.Profile, r.Context))
	want := `{"profile":{"person":{"name":{"firstName":"J"}}},"context":{"n":12345678901234567890,"note":"\u003cb\u003e\u0026\u003c/b\u003e","u":"\u2028"}}`
	if got != want {
		t.Errorf("old job's data =\n%s\nwant\n%s", got, want)
	}
	if !j.Recipients[1].Context.IsZero() || !j.Recipients[1].Profile.IsZero() {
		t.Errorf("a recipient without profile or context decoded with one")
	}
	// Encoded again, it is what the old code wrote, but for U+2028,
	// which EncodeJob writes raw.
	b, err := delivery.EncodeJob(j)
	if err != nil {
		t.Fatal(err)
	}
	var a, c any
	_ = json.Unmarshal([]byte(old), &a)
	_ = json.Unmarshal(b, &c)
	if diff := cmp.Diff(a, c); diff != "" {
		t.Errorf("re-encoded job (-old +new):\n%s", diff)
	}
	if strings.Contains(string(b), `\u2028`) {
		t.Errorf("EncodeJob escaped U+2028: %s", b)
	}
}
