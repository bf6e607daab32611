package contract_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/heraldhq/herald/infra/contract"
	"github.com/heraldhq/herald/infra/localcloud"
)

// Herald's document loads and passes kin-openapi's validation of an
// OpenAPI 3.1 document, its examples included.
func TestHeraldsDocumentIsAValidOpenAPI31Document(t *testing.T) {
	doc, err := contract.LoadHerald()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
}

func jsonHeader(extra ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

const notFound = `{"type":"urn:herald:error:not-found","title":"Not found","status":404,"report":{"additionalContext":{}}}`

// The checker passes what keeps both contracts and names, without
// values, what breaks one: an undocumented status, a body off its schema,
// an error out of the errorResponse shape, a request off its schema
// (only when the API accepted it).
func TestTheCheckerFindsWhatBreaksTheContracts(t *testing.T) {
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	unitary := `{"requestId":"r-1","campaignId":"c-1","recipients":[{"type":"external","namespace":"email","userId":"secret-address@example.com","context":{"n":1}}],"futureField":true}`
	accepted := `{"executionId":"ex-1","requestId":"r-1","createdAt":"2026-11-30T21:00:00Z","createdBy":"k","modifiedAt":"2026-11-30T21:00:00Z","modifiedBy":"k"}`
	tests := []struct {
		name string
		x    localcloud.Exchange
		want []string // substrings, one per violation
	}{
		{"an accepted unitary execution keeps both", localcloud.Exchange{Method: "POST", Path: "/ajo/im/executions/unitary", RequestHeader: jsonHeader(),
			RequestBody: []byte(unitary), Status: 202, ResponseHeader: jsonHeader(), ResponseBody: []byte(accepted)}, nil},
		{"a scheduled audience execution keeps both", localcloud.Exchange{Method: "POST", Path: "/im/executions/audience", RequestHeader: jsonHeader(),
			RequestBody: []byte(`{"campaignId":"c-1","schedule":{"executeAt":"2026-12-01T09:00:00Z"}}`), Status: 202, ResponseHeader: jsonHeader(),
			ResponseBody: []byte(`{"scheduleId":"s-1","scheduleStatus":"Scheduled","campaignId":"c-1","executeAt":"2026-12-01T09:00:00Z","requestId":"r-1"}`)}, nil},
		{"a 404 in the error shape keeps both", localcloud.Exchange{Method: "GET", Path: "/im/executions/audience/ex-9",
			Status: 404, ResponseHeader: jsonHeader(), ResponseBody: []byte(notFound)}, nil},
		{"a gzipped body is read decompressed", localcloud.Exchange{Method: "GET", Path: "/im/executions/audience/ex-9",
			Status: 404, ResponseHeader: jsonHeader("Content-Encoding", "gzip"), ResponseBody: gzipped(t, notFound)}, nil},
		{"a body said gzipped that is not", localcloud.Exchange{Method: "GET", Path: "/im/executions/audience/ex-9",
			Status: 404, ResponseHeader: jsonHeader("Content-Encoding", "gzip"), ResponseBody: []byte(notFound)},
			[]string{"GET /im/executions/audience/{executionId} → 404: Content-Encoding gzip, but the body is not gzip"}},
		{"an unknown path is a 404", localcloud.Exchange{Method: "GET", Path: "/nope/secret-address@example.com",
			Status: 404, ResponseHeader: jsonHeader(), ResponseBody: []byte(notFound)}, nil},
		{"a 405 without Allow", localcloud.Exchange{Method: "PUT", Path: "/im/health",
			Status: 405, ResponseHeader: jsonHeader(), ResponseBody: []byte(`{"type":"t","title":"t","status":405,"report":{"additionalContext":{}}}`)},
			[]string{"PUT /im/health → 405: 405 without Allow"}},
		{"an undocumented status", localcloud.Exchange{Method: "GET", Path: "/campaigns/c-1",
			Status: 418, ResponseHeader: jsonHeader(), ResponseBody: []byte(`{"type":"t","title":"t","status":418,"report":{"additionalContext":{}}}`)},
			[]string{"GET /campaigns/{id} → 418: response: status is not supported"}},
		{"API Gateway's bare message", localcloud.Exchange{Method: "POST", Path: "/im/executions/unitary", RequestBody: []byte(unitary),
			Status: 403, ResponseHeader: jsonHeader(), ResponseBody: []byte(`{"message":"Forbidden"}`)},
			[]string{"POST /im/executions/unitary → 403: response:", "POST /im/executions/unitary → 403: AJO contract: error body is not an errorResponse"}},
		{"a success off its schema", localcloud.Exchange{Method: "POST", Path: "/im/executions/unitary", RequestHeader: jsonHeader(), RequestBody: []byte(unitary),
			Status: 202, ResponseHeader: jsonHeader(), ResponseBody: []byte(`{"executionId":7}`)},
			[]string{"POST /im/executions/unitary → 202: response:", "POST /im/executions/unitary → 202: AJO contract: response:"}},
		{"an accepted request off its schema", localcloud.Exchange{Method: "POST", Path: "/campaigns", RequestHeader: jsonHeader(),
			RequestBody: []byte(`{"name":"n","secretField":"secret-address@example.com"}`), Status: 201, ResponseHeader: jsonHeader(),
			ResponseBody: []byte(`{"id":"c-1","name":"n","type":"marketing","channel":"email","status":"draft","revision":1,"createdAt":"2026-11-30T21:00:00Z","updatedAt":"2026-11-30T21:00:00Z"}`)},
			[]string{"POST /campaigns → 201: request: body: "}},
		{"a refused request off its schema is expected", localcloud.Exchange{Method: "POST", Path: "/campaigns", RequestHeader: jsonHeader(),
			RequestBody: []byte(`{"name":7}`), Status: 400, ResponseHeader: jsonHeader(),
			ResponseBody: []byte(`{"type":"urn:herald:error:invalid-request","title":"The request is invalid","status":400,"report":{"additionalContext":{}},"errors":[{"field":"name","message":"must be a string"}]}`)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Check(tt.x)
			if len(got) != len(tt.want) {
				t.Fatalf("violations %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %q, want it to hold %q", got[i], w)
				}
			}
			for _, v := range got {
				if strings.Contains(v, "secret-address") {
					t.Errorf("violation %q holds a value from a body or path", v)
				}
			}
		})
	}
}

// kin-openapi is for the tests: no function's binary links it (nor this
// package).
func TestNoFunctionLinksTheValidator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/heraldhq/herald/functions/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/getkin/") || pkg == "github.com/heraldhq/herald/infra/contract" {
			t.Errorf("a function links %s", pkg)
		}
	}
}

// A suite fails on a violation and names it; Pairs counts every exchange.
func TestTheVerdictNamesEveryViolation(t *testing.T) {
	c, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	c.Observe(localcloud.Exchange{Method: "GET", Path: "/im/executions/audience/ex-9", Status: 404, ResponseHeader: jsonHeader(), ResponseBody: []byte(notFound)})
	if err := c.Verdict(); err != nil {
		t.Errorf("a documented 404 failed the suite: %v", err)
	}
	c.Observe(localcloud.Exchange{Method: "GET", Path: "/campaigns", Status: 403, ResponseHeader: jsonHeader(), ResponseBody: []byte(`{"message":"Forbidden"}`)})
	c.Observe(localcloud.Exchange{Method: "GET", Path: "/campaigns", Status: 418, ResponseHeader: jsonHeader(), ResponseBody: []byte(notFound)})
	err = c.Verdict()
	if err == nil || !strings.Contains(err.Error(), "GET /campaigns → 418") || !strings.Contains(err.Error(), "GET /campaigns → 403") {
		t.Errorf("verdict %v, want the 403 and the 418 named", err)
	}
	if c.Pairs() != 3 {
		t.Errorf("%d pairs, want 3", c.Pairs())
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
