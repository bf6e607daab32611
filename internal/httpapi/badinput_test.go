package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// badInput is a refused request: its status, the fields the error names,
// and (checked for every case) that nothing was stored or queued.
type badInput struct {
	name   string
	route  string
	body   string
	params map[string]string
	query  map[string]string
	status int
	fields []string
}

func runBadInput(t *testing.T, f *triggerFixture, tests []badInput) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler := f.manage
			if strings.Contains(tt.route, " /im/") {
				handler = f.trigger
			}
			stored, queued := f.store.Fingerprint(), f.queue.Fingerprint()
			ev := event(tt.route, tt.body, acmeKey, tt.params)
			ev.QueryStringParameters = tt.query
			status, body := call(t, handler, ev)
			if status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", status, tt.status, body)
			}
			if diff := cmp.Diff(tt.fields, fieldNames(errorBody(t, status, body))); diff != "" {
				t.Errorf("errors[].field (-want +got):\n%s", diff)
			}
			if f.store.Fingerprint() != stored {
				t.Error("the refused request changed the store")
			}
			if f.queue.Fingerprint() != queued {
				t.Error("the refused request queued jobs")
			}
		})
	}
}

var profileParams = map[string]string{"namespace": "crmId", "id": "42"}

// Each case was a 500, or a silent U+FFFD, on main before issue 10.
func TestBadTextIsRefusedNotReplaced(t *testing.T) {
	f := newTriggerFixture(t)
	unitaryWith := func(recipient string) string {
		return `{"requestId":"req-bad","campaignId":"` + f.live + `","recipients":[` + recipient + `]}`
	}
	runBadInput(t, f, []badInput{
		{name: "an email address with invalid UTF-8 is named, not sent to f\ufffd\ufffdz@example.com", route: unitaryRoute,
			body:   unitaryWith("{\"type\":\"external\",\"namespace\":\"email\",\"userId\":\"a@example.com\",\"channelData\":{\"emailAddress\":\"f\xff\xfez@example.com\"}}"),
			status: http.StatusBadRequest, fields: []string{"recipients[0].channelData.emailAddress"}},
		{name: "a lone surrogate in context is named", route: unitaryRoute,
			body:   unitaryWith(`{"type":"external","namespace":"email","userId":"a@example.com","context":{"name":"x\ud800y"}}`),
			status: http.StatusBadRequest, fields: []string{"recipients[0].context.name"}},
		{name: "a lone surrogate in a profile attribute is named", route: "PUT /profiles/{namespace}/{id}", params: profileParams,
			body: `{"attributes":{"firstName":"\udc00"}}`, status: http.StatusBadRequest, fields: []string{"attributes.firstName"}},
		{name: "a path parameter that is not UTF-8 is named", route: "PUT /profiles/{namespace}/{id}",
			params: map[string]string{"namespace": "crmId", "id": "4\xff2"}, body: `{}`,
			status: http.StatusBadRequest, fields: []string{"id"}},
		{name: "a query parameter that is not UTF-8 is named", route: "GET /campaigns",
			query: map[string]string{"name": "\xff"}, status: http.StatusBadRequest, fields: []string{"name"}},
	})
}
