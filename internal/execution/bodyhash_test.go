package execution_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/testfill"
)

// legacyRequest is UnitaryRequest as it was when profile and context
// decoded into maps: idempotency records stored then hold the SHA-256 of
// its json.Marshal.
type legacyRequest struct {
	RequestID  string            `json:"requestId"`
	CampaignID string            `json:"campaignId"`
	Recipients []legacyRecipient `json:"recipients"`
}

type legacyRecipient struct {
	Type              string                 `json:"type"`
	UserID            string                 `json:"userId"`
	Namespace         string                 `json:"namespace"`
	MergePolicyName   string                 `json:"mergePolicyName,omitempty"`
	MergePolicySchema string                 `json:"mergePolicySchema,omitempty"`
	ChannelData       *execution.ChannelData `json:"channelData,omitempty"`
	Profile           map[string]any         `json:"profile,omitempty"`
	Context           map[string]any         `json:"context,omitempty"`
}

// TestBodyHashIsTheMapEras holds the idempotency hash to what the code
// before render.Object computed for the same body, so that a repeat of a
// call accepted before a deploy is still answered, not refused as a
// conflict; and it stays blind to member order.
func TestBodyHashIsTheMapEras(t *testing.T) {
	bodies := []string{
		`{"requestId":"r1","campaignId":"c1","recipients":[{"type":"aep","userId":"u1","namespace":"email","profile":{"z":1,"a":{"y":[1,{"q":true,"b":null}],"x":"<&>"}},"context":{"orderId":"A-1","total":42.50,"big":12345678901234567890}}]}`,
		`{"requestId":"r2","campaignId":"c1","recipients":[{"type":"external","userId":"u1","namespace":"email","mergePolicyName":"m","mergePolicySchema":"s","channelData":{"emailAddress":"a@example.com","mobilePhoneNumber":"+14155550100","pushInfo":{"appID":"app","platform":"apns","token":"t"}},"context":{}},{"type":"aep","userId":"u2","namespace":"email","profile":null,"context":{"s":"\u00e9\u2028\u2029\ud83d\ude00\"\\\/\b\f\n\r\t\u0001","dup":1,"dup":2}}]}`,
		`{"requestId":"r3","campaignId":"c1","recipients":[{"type":"aep","userId":"u1","namespace":"email","channelData":{},"profile":{},"context":{"10":"a","2":"b","x":[],"y":{}}}]}`,
		`{"requestId":"r4","campaignId":"c1"}`,
	}
	for _, body := range bodies {
		want, b := legacyHash(t, body, &legacyRequest{})
		req, err := execution.DecodeUnitary([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := execution.BodyHash(req); got != want {
			t.Errorf("hash of %s\n = %s, want %s (of %s)", body, got, want, b)
		}
	}
}

// TestBodyHashCoversEveryField fails when UnitaryRequest or Recipient gains
// a field that bodyHash's shapes lack: a repeat differing only there would
// be answered as the first call.
func TestBodyHashCoversEveryField(t *testing.T) {
	tags := fieldTags
	legacy := tags(legacyRecipient{})
	legacy[len(legacy)-2], legacy[len(legacy)-1] = "Profile profile,omitzero", "Context context,omitzero"
	if diff := cmp.Diff(legacy, tags(execution.Recipient{})); diff != "" {
		t.Errorf("Recipient's fields changed; update hashRecipient and legacyRecipient (-hashed +now):\n%s", diff)
	}
	if diff := cmp.Diff(tags(legacyRecipient{}), tags(execution.HashRecipient{})); diff != "" {
		t.Errorf("hashRecipient (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tags(legacyRequest{}), tags(execution.HashRequest{})); diff != "" {
		t.Errorf("hashRequest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tags(legacyRequest{}), tags(execution.UnitaryRequest{})); diff != "" {
		t.Errorf("UnitaryRequest's fields changed; update hashRequest (-hashed +now):\n%s", diff)
	}
}

// legacyAudienceRequest is AudienceRequest as it was when its context
// decoded into a map: records stored then hold the SHA-256 of its
// json.Marshal.
type legacyAudienceRequest struct {
	RequestID  string                     `json:"requestId,omitempty"`
	CampaignID string                     `json:"campaignId"`
	Audience   *execution.AudienceRef     `json:"audience,omitempty"`
	Context    map[string]any             `json:"context,omitempty"`
	Schedule   *execution.ScheduleRequest `json:"schedule,omitempty"`
}

// TestAudienceBodyHashIsTheMapEras holds an audience request's
// idempotency hash to what the code before its context kept the call's
// member order computed, and to the same fields; member order does not
// change it.
func TestAudienceBodyHashIsTheMapEras(t *testing.T) {
	bodies := []string{
		`{"requestId":"r1","campaignId":"c1","context":{"z":1,"a":{"y":[1,{"q":true,"b":null}],"x":"<&>"},"total":42.50,"big":12345678901234567890}}`,
		`{"requestId":"r2","campaignId":"c1","audience":{"id":"a1"},"schedule":{"executeAt":"2026-12-24T09:00:00Z"},"context":{"s":"\u00e9\u2028\u2029\ud83d\ude00\"\\\/\b\f\n\r\t\u0001","dup":1,"dup":2}}`,
		`{"requestId":"r3","campaignId":"c1","context":{}}`,
		`{"campaignId":"c1","context":{"10":"a","2":"b","x":[],"y":{}}}`,
		`{"requestId":"r5","campaignId":"c1"}`,
	}
	hashes := map[string]string{}
	for _, body := range bodies {
		want, b := legacyHash(t, body, &legacyAudienceRequest{})
		req, err := execution.DecodeAudience([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := execution.AudienceBodyHash(req); got != want {
			t.Errorf("hash of %s\n = %s, want %s (of %s)", body, got, want, b)
		}
		hashes[body] = want
	}
	// The same context in another member order is the same request.
	reordered, err := execution.DecodeAudience([]byte(`{"requestId":"r1","campaignId":"c1","context":{"big":12345678901234567890,"total":42.50,"a":{"x":"<&>","y":[1,{"b":null,"q":true}]},"z":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := execution.AudienceBodyHash(reordered); got != hashes[bodies[0]] {
		t.Errorf("reordered members change the hash: %s, want %s", got, hashes[bodies[0]])
	}
	tags := fieldTags
	legacy := tags(legacyAudienceRequest{})
	legacy[3] = "Context context,omitzero"
	if diff := cmp.Diff(legacy, tags(execution.AudienceRequest{})); diff != "" {
		t.Errorf("AudienceRequest's fields changed; update audienceHashRequest and legacyAudienceRequest (-hashed +now):\n%s", diff)
	}
	if diff := cmp.Diff(tags(legacyAudienceRequest{})[:3], tags(execution.AudienceHashRequest{})[:3]); diff != "" {
		t.Errorf("audienceHashRequest (-want +got):\n%s", diff)
	}
}

// legacyHash decodes body into legacy (a map-era shape, numbers exact) and
// returns the SHA-256 of its json.Marshal, as the code of that era stored
// it, and the bytes hashed.
func legacyHash(t *testing.T, body string, legacy any) (string, []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.UseNumber()
	if err := dec.Decode(legacy); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(legacy)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), b
}

// fieldTags lists a struct's fields with their json tags.
func fieldTags(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		f := rt.Field(i)
		out = append(out, f.Name+" "+f.Tag.Get("json"))
	}
	return out
}

// TestBodyHashIsHashRequestsMarshal holds the bytes bodyHash hashes,
// written by hand, to json.Marshal of the request's hash shape (profile
// and context in their canonical form) on requests with every field set
// or left out at random; a field the shape gains and the writer lacks
// fails it.
func TestBodyHashIsHashRequestsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	reqs := []execution.UnitaryRequest{{}, {Recipients: []execution.Recipient{}},
		{Recipients: []execution.Recipient{{ChannelData: &execution.ChannelData{}}, {ChannelData: &execution.ChannelData{PushInfo: &execution.PushInfo{}}}}}}
	for range 400 {
		var req execution.UnitaryRequest
		testfill.Random(t, r, reflect.ValueOf(&req).Elem())
		reqs = append(reqs, req)
	}
	for i, req := range reqs {
		h := execution.HashRequest{RequestID: req.RequestID, CampaignID: req.CampaignID}
		if req.Recipients != nil {
			h.Recipients = []execution.HashRecipient{}
		}
		canonical := func(o render.Object) json.RawMessage {
			if o.Len() == 0 {
				return nil
			}
			return o.AppendCanonicalJSON(nil)
		}
		for _, rc := range req.Recipients {
			h.Recipients = append(h.Recipients, execution.HashRecipient{Type: rc.Type, UserID: rc.UserID, Namespace: rc.Namespace,
				MergePolicyName: rc.MergePolicyName, MergePolicySchema: rc.MergePolicySchema, ChannelData: rc.ChannelData,
				Profile: canonical(rc.Profile), Context: canonical(rc.Context)})
		}
		want, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := execution.Canonical(req); !bytes.Equal(got, want) {
			t.Fatalf("request %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
