package delivery_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/tenant"
)

func testJob() delivery.Job {
	return delivery.Job{Tenant: tenant.Tenant{Org: "acme", Sandbox: "prod"}, ExecutionID: "ex-1", CampaignID: "c-1", Version: 3}
}

func TestEncodeDecodeJobRoundTrip(t *testing.T) {
	want := testJob()
	want.Recipients = []delivery.Recipient{{
		Type: "aep", UserID: "jane@example.com", Namespace: "email", Email: "jane+orders@example.com",
		Profile: toObject(map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Jane <J> & Co"}}}),
		Context: toObject(map[string]any{
			"banner":  `<a href="https://example.com/?a=1&b=2">Shop</a>`,
			"orderId": json.Number("12345678901234567890"), // beyond float64's exact range
			"total":   json.Number("19.990"),
			"items":   []any{map[string]any{"sku": "A-1", "qty": json.Number("2")}},
			"lines":   "one\u2028two\u2029three",
			"path":    `C:\u2028 is not an escape here`,
			"gift":    true,
			"note":    nil,
		}),
	}}

	body, err := delivery.EncodeJob(want)
	if err != nil {
		t.Fatalf("EncodeJob: %v", err)
	}
	s := string(body)
	for _, raw := range []string{`<a href=\"https://example.com/?a=1&b=2\">Shop</a>`, `Jane <J> & Co`, `12345678901234567890`, `19.990`,
		"one\u2028two\u2029three", `C:\\u2028 is not an escape here`} {
		if !strings.Contains(s, raw) {
			t.Errorf("EncodeJob() = %s\nwant it to hold %s unescaped", s, raw)
		}
	}
	for _, esc := range []string{`\u003c`, `\u0026`, `two\u2029`, `one\u2028`} {
		if strings.Contains(s, esc) {
			t.Errorf("EncodeJob() holds the escape %s: %s", esc, s)
		}
	}
	if strings.HasSuffix(s, "\n") {
		t.Errorf("EncodeJob() ends with a newline")
	}

	got, err := delivery.DecodeJob(body)
	if err != nil {
		t.Fatalf("DecodeJob: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodeJob(EncodeJob(job)) mismatch (-want +got):\n%s", diff)
	}
}

// A profile override of 78,000 U+2028 made a 468 KB job out of a 234 KB
// request on main: encoding/json escapes each 3-byte character as 6 bytes.
func TestEncodeJobKeepsLineSeparatorsAtTheirSize(t *testing.T) {
	j := testJob()
	override := strings.Repeat("\u2028", 78000)
	j.Recipients = []delivery.Recipient{{Type: "external", UserID: "u", Namespace: "crmId", Profile: toObject(map[string]any{"s": override})}}
	body, err := delivery.EncodeJob(j)
	if err != nil {
		t.Fatal(err)
	}
	if max := len(override) + 1024; len(body) > max {
		t.Errorf("EncodeJob() is %d bytes for %d bytes of U+2028, want at most %d", len(body), len(override), max)
	}
	if len(body) > delivery.MaxJobSize {
		t.Errorf("EncodeJob() is %d bytes, over MaxJobSize %d", len(body), delivery.MaxJobSize)
	}
}

// EncodedJobSize is what the execution service sizes jobs with before
// anything is stored: it must be EncodeJob's length exactly, separators
// and escapes included.
func TestEncodedJobSizeIsTheEncodingsLength(t *testing.T) {
	for name, profile := range map[string]map[string]any{
		"plain":                 {"firstName": "Ada"},
		"line separators":       {"s": "a\u2028b\u2029c", "t": strings.Repeat("\u2028", 100)},
		"escaped backslash":     {"s": `\u2028 is written \\u2028`},
		"html and control":      {"s": "<b>&amp;</b>\x01\t\"quoted\""},
		"separators in the key": {"\u2029k": "v"},
	} {
		j := testJob()
		j.Recipients = []delivery.Recipient{{Type: "external", UserID: "u", Namespace: "crmId", Profile: toObject(profile)}}
		body, err := delivery.EncodeJob(j)
		if err != nil {
			t.Fatal(err)
		}
		n, err := delivery.EncodedJobSize(j)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(body) {
			t.Errorf("%s: EncodedJobSize() = %d, len(EncodeJob()) = %d", name, n, len(body))
		}
	}
}

func TestDecodeJobRejectsGarbage(t *testing.T) {
	for _, body := range []string{"", "{", `{"version":"three"}`, "not json"} {
		if _, err := delivery.DecodeJob([]byte(body)); err == nil {
			t.Errorf("DecodeJob(%q) error = nil, want an error", body)
		}
	}
}

// toObject is m as a trigger's recipient carries its profile or context
// (decoded once into the engine's object; a map's members in sorted
// order).
func toObject(m map[string]any) render.Object {
	o, err := render.ObjectOf(m)
	if err != nil {
		panic(err)
	}
	return o
}
