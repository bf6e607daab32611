package execution_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/render"
)

func validRequest(n int) execution.UnitaryRequest {
	req := execution.UnitaryRequest{RequestID: "req-1", CampaignID: "camp-1"}
	for i := range n {
		req.Recipients = append(req.Recipients, execution.Recipient{Type: "aep", UserID: fmt.Sprintf("u%d@example.com", i), Namespace: "email"})
	}
	return req
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*execution.UnitaryRequest)
		fields []string
	}{
		{"a valid request passes", func(*execution.UnitaryRequest) {}, nil},
		{"twenty recipients pass", func(r *execution.UnitaryRequest) { *r = validRequest(20) }, nil},
		{"pushInfo names its platform as AJO and the SDKs do, in any case", func(r *execution.UnitaryRequest) {
			*r = validRequest(3)
			for i, pl := range []string{"apnsSandbox", "FCM", "ios"} {
				r.Recipients[i].ChannelData = &execution.ChannelData{PushInfo: &execution.PushInfo{AppID: "shop", Platform: pl, Token: "t"}}
			}
		}, nil},
		{"AJO's example numbers pass: the configuration's region reads them at send time", func(r *execution.UnitaryRequest) {
			*r = validRequest(2)
			r.Recipients[0].ChannelData = &execution.ChannelData{MobilePhoneNumber: "111-111-1111"}
			r.Recipients[1].Namespace, r.Recipients[1].UserID = "phone", "1234567890"
		}, nil},
		{"a missing requestId is named", func(r *execution.UnitaryRequest) { r.RequestID = "" }, []string{"requestId"}},
		{"a requestId over 256 bytes is named", func(r *execution.UnitaryRequest) { r.RequestID = strings.Repeat("r", 257) }, []string{"requestId"}},
		{"a requestId with a control character is named", func(r *execution.UnitaryRequest) { r.RequestID = "a\nb" }, []string{"requestId"}},
		{"a missing campaignId is named", func(r *execution.UnitaryRequest) { r.CampaignID = "" }, []string{"campaignId"}},
		{"missing recipients are named", func(r *execution.UnitaryRequest) { r.Recipients = nil }, []string{"recipients"}},
		{"zero recipients are refused", func(r *execution.UnitaryRequest) { r.Recipients = []execution.Recipient{} }, []string{"recipients"}},
		{"twenty-one recipients are refused", func(r *execution.UnitaryRequest) { *r = validRequest(21) }, []string{"recipients"}},
		{"a duplicate userId is named at its second place", func(r *execution.UnitaryRequest) {
			*r = validRequest(3)
			r.Recipients[2].UserID = r.Recipients[0].UserID
		}, []string{"recipients[2].userId"}},
		{"the same userId in two namespaces is not a duplicate", func(r *execution.UnitaryRequest) {
			r.Recipients = []execution.Recipient{{Type: "external", UserID: "42", Namespace: "crmId"}, {Type: "external", UserID: "42", Namespace: "loyaltyId"}}
		}, nil},
		{"a missing type is named", func(r *execution.UnitaryRequest) { r.Recipients[0].Type = "" }, []string{"recipients[0].type"}},
		{"an unknown type is named", func(r *execution.UnitaryRequest) { r.Recipients[0].Type = "anonymous" }, []string{"recipients[0].type"}},
		{"a missing userId and namespace are named", func(r *execution.UnitaryRequest) { r.Recipients[0].UserID, r.Recipients[0].Namespace = "", "" },
			[]string{"recipients[0].userId", "recipients[0].namespace"}},
		{"a userId that is no address in the email namespace is named", func(r *execution.UnitaryRequest) { r.Recipients[0].UserID = "jane" },
			[]string{"recipients[0].userId"}},
		{"an invalid channelData.emailAddress is named", func(r *execution.UnitaryRequest) {
			r.Recipients[0].ChannelData = &execution.ChannelData{EmailAddress: "jane@"}
		}, []string{"recipients[0].channelData.emailAddress"}},
		{"a mobile number that can never be a number is named", func(r *execution.UnitaryRequest) {
			r.Recipients[0].ChannelData = &execution.ChannelData{MobilePhoneNumber: "06 12 34 56 78 (mobile)"}
		}, []string{"recipients[0].channelData.mobilePhoneNumber"}},
		{"pushInfo needs an app, a known platform and a token", func(r *execution.UnitaryRequest) {
			r.Recipients[0].ChannelData = &execution.ChannelData{PushInfo: &execution.PushInfo{Platform: "WNS"}}
		}, []string{"recipients[0].channelData.pushInfo.appID", "recipients[0].channelData.pushInfo.platform", "recipients[0].channelData.pushInfo.token"}},
		{"a userId in the phone namespace must be shaped as a number", func(r *execution.UnitaryRequest) {
			r.Recipients[0].Namespace, r.Recipients[0].UserID = "phone", "555-CALL"
		}, []string{"recipients[0].userId"}},
		{"context.system is reserved", func(r *execution.UnitaryRequest) {
			r.Recipients[0].Context = toObject(map[string]any{"system": map[string]any{}})
		},
			[]string{"recipients[0].context.system"}},
		{"context over 200 KiB in all is refused", func(r *execution.UnitaryRequest) {
			*r = validRequest(2)
			half := strings.Repeat("x", execution.MaxContextSize/2)
			r.Recipients[0].Context = toObject(map[string]any{"a": half})
			r.Recipients[1].Context = toObject(map[string]any{"b": half})
		}, []string{"recipients[].context"}},
		{"HTML in context counts at its sent size, not escaped", func(r *execution.UnitaryRequest) {
			r.Recipients[0].Context = toObject(map[string]any{"html": strings.Repeat("<b>&</b>", (150<<10)/8)})
		}, nil},
		{"context exactly at the limit passes", func(r *execution.UnitaryRequest) {
			r.Recipients[0].Context = toObject(map[string]any{"a": strings.Repeat("x", execution.MaxContextSize-len(`{"a":""}`))})
		}, nil},
		{"context one byte over the limit is refused", func(r *execution.UnitaryRequest) {
			r.Recipients[0].Context = toObject(map[string]any{"a": strings.Repeat("x", execution.MaxContextSize-len(`{"a":""}`)+1)})
		}, []string{"recipients[].context"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := validRequest(1)
			tt.edit(&req)
			err := req.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var de *derrors.Error
			if !errors.As(err, &de) || de.Kind != derrors.Invalid {
				t.Fatalf("Validate() = %v, want Invalid", err)
			}
			var got []string
			for _, f := range de.Fields {
				got = append(got, f.Field)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
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

// parseObject decodes a JSON object as a trigger call's context arrives.
func parseObject(t *testing.T, s string) render.Object {
	t.Helper()
	o, err := render.ParseObject([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return o
}
