package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/erasure"
)

func TestErasureRoutesAnswerWhatWasErasedAndRepeatAsNothing(t *testing.T) {
	h := newHarness(t)
	params := map[string]string{"namespace": "crmId", "id": "cust-9"}
	if status, body := call(t, h.manage, event("PUT /profiles/{namespace}/{id}", `{"attributes":{"firstName":"Ann"},"identities":{"email":"ann@example.com"}}`, acmeKey, params)); status != 200 {
		t.Fatalf("PUT profile = %d %s", status, body)
	}
	erase := func(ev string) erasure.Result {
		t.Helper()
		var ee = event("DELETE /profiles/{namespace}/{id}", "", acmeKey, params)
		if ev != "" {
			ee = event("POST /erasures", ev, acmeKey, nil)
		}
		status, body := call(t, h.manage, ee)
		var r erasure.Result
		if status != 200 || json.Unmarshal([]byte(body), &r) != nil {
			t.Fatalf("%s = %d %s, want 200 and a result", ee.RouteKey, status, body)
		}
		return r
	}
	want := erasure.NewResult()
	want.Erased[erasure.Profiles] = 1
	if diff := cmp.Diff(want, erase("")); diff != "" {
		t.Errorf("DELETE profile (-want +got):\n%s", diff)
	}
	if status, _ := call(t, h.manage, event("GET /profiles/{namespace}/{id}", "", acmeKey, params)); status != 404 {
		t.Errorf("GET after erasure = %d, want 404", status)
	}
	if diff := cmp.Diff(erasure.NewResult(), erase("")); diff != "" {
		t.Errorf("DELETE again (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(erasure.NewResult(), erase(`{"channel":"email","address":"ann@example.com"}`)); diff != "" {
		t.Errorf("POST /erasures by address (-want +got):\n%s", diff)
	}
	for _, body := range []string{`{}`, `{"namespace":"crmId","id":"x","channel":"email","address":"a@b.example"}`, `{"channel":"push","address":"t"}`, `{"who":"x"}`} {
		if status, out := call(t, h.manage, event("POST /erasures", body, acmeKey, nil)); status != 400 {
			t.Errorf("POST /erasures %s = %d %s, want 400", body, status, out)
		}
	}
}
