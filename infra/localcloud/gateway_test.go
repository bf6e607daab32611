package localcloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// fakeAPI is a gateway over hand-written handlers that record what they
// were called with.
type fakeAPI struct {
	srv        *httptest.Server
	got        *events.APIGatewayV2HTTPRequest
	authCalls  int
	authorize  bool
	authErr    error
	handlerErr error
	resp       events.APIGatewayV2HTTPResponse
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{authorize: true, resp: events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "ok"}}
	s := &Stack{Region: "us-east-1", AccountID: "123456789012", Routes: []Route{
		{Method: "POST", Path: "/campaigns", Function: "Manage", Authorizer: "Auth"},
		{Method: "GET", Path: "/campaigns/{id}", Function: "Manage", Authorizer: "Auth"},
		{Method: "POST", Path: "/campaigns/{id}/activate", Function: "Manage", Authorizer: "Auth"},
		{Method: "GET", Path: "/campaigns/latest", Function: "Manage", Authorizer: "Auth"},
		{Method: "ANY", Path: "/files/{proxy+}", Function: "Manage", Authorizer: "Auth"},
		{Method: "GET", Path: "/im/health", Function: "Trigger"},
	}}
	record := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		f.got = &ev
		return f.resp, f.handlerErr
	}
	h := Handlers{
		HTTP: map[string]HTTPHandler{"Manage": record, "Trigger": record},
		Authorizers: map[string]AuthorizerHandler{"Auth": func(_ context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
			f.authCalls++
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: f.authorize, Context: map[string]any{"keyId": "hk_1", "route": ev.RouteKey}}, f.authErr
		}},
	}
	gw, err := NewGateway(s, h, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(gw)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) do(t *testing.T, method, path string, body []byte, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestGatewayRoutesLikeAPIGateway(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantRouteKey string
		wantParams   map[string]string
	}{
		{"POST", "/campaigns", 200, "POST /campaigns", nil},
		{"GET", "/campaigns/c-1", 200, "GET /campaigns/{id}", map[string]string{"id": "c-1"}},
		{"GET", "/campaigns/a%20b", 200, "GET /campaigns/{id}", map[string]string{"id": "a b"}},
		{"GET", "/campaigns/latest", 200, "GET /campaigns/latest", nil},
		{"POST", "/campaigns/c-1/activate", 200, "POST /campaigns/{id}/activate", map[string]string{"id": "c-1"}},
		{"DELETE", "/files/a/b/c.txt", 200, "ANY /files/{proxy+}", map[string]string{"proxy": "a/b/c.txt"}},
		{"GET", "/im/health", 200, "GET /im/health", nil},
		{"DELETE", "/campaigns/c-1", 404, "", nil},
		{"GET", "/campaigns/c-1/activate/now", 404, "", nil},
		{"GET", "/nowhere", 404, "", nil},
		{"GET", "/files", 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			f := newFakeAPI(t)
			resp, body := f.do(t, tt.method, tt.path, nil, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 404 {
				if body != `{"message":"Not Found"}` {
					t.Errorf("404 body = %s, want API Gateway's", body)
				}
				return
			}
			if f.got.RouteKey != tt.wantRouteKey || f.got.RequestContext.RouteKey != tt.wantRouteKey {
				t.Errorf("routeKey = %q / %q, want %q", f.got.RouteKey, f.got.RequestContext.RouteKey, tt.wantRouteKey)
			}
			if diff := cmp.Diff(tt.wantParams, f.got.PathParameters); diff != "" {
				t.Errorf("pathParameters (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGatewayBuildsThePayload20Event(t *testing.T) {
	f := newFakeAPI(t)
	h := http.Header{
		"Authorization": {"Bearer hrld_x"},
		"X-Multi":       {"a", "b"},
		"Cookie":        {"session=1; theme=dark"},
		"User-Agent":    {"herald-test/1"},
		"Content-Type":  {"application/json"},
	}
	_, _ = f.do(t, "POST", "/campaigns/c-1/activate?x=1&x=2&y=3", []byte(`{"a":1}`), h)
	ev := f.got
	if ev == nil {
		t.Fatal("handler not called")
	}
	if ev.Version != "2.0" || ev.RawPath != "/campaigns/c-1/activate" || ev.RawQueryString != "x=1&x=2&y=3" {
		t.Errorf("version/rawPath/rawQueryString = %q %q %q", ev.Version, ev.RawPath, ev.RawQueryString)
	}
	if diff := cmp.Diff(map[string]string{"x": "1,2", "y": "3"}, ev.QueryStringParameters); diff != "" {
		t.Errorf("queryStringParameters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"session=1", "theme=dark"}, ev.Cookies); diff != "" {
		t.Errorf("cookies (-want +got):\n%s", diff)
	}
	for k, want := range map[string]string{"authorization": "Bearer hrld_x", "x-multi": "a,b", "content-type": "application/json", "content-length": "7", "x-forwarded-proto": "http"} {
		if ev.Headers[k] != want {
			t.Errorf("headers[%q] = %q, want %q", k, ev.Headers[k], want)
		}
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("cookie header kept; payload 2.0 moves it to cookies")
	}
	rc := ev.RequestContext
	if rc.Stage != "$default" || rc.AccountID != "123456789012" || rc.APIID != APIID || rc.RequestID == "" || rc.TimeEpoch == 0 || rc.Time == "" {
		t.Errorf("requestContext = %+v", rc)
	}
	if rc.HTTP.Method != "POST" || rc.HTTP.Path != "/campaigns/c-1/activate" || rc.HTTP.Protocol != "HTTP/1.1" || rc.HTTP.SourceIP != "127.0.0.1" || rc.HTTP.UserAgent != "herald-test/1" {
		t.Errorf("requestContext.http = %+v", rc.HTTP)
	}
	if ev.Body != `{"a":1}` || ev.IsBase64Encoded {
		t.Errorf("body = %q base64 %v", ev.Body, ev.IsBase64Encoded)
	}
	want := map[string]any{"keyId": "hk_1", "route": "POST /campaigns/{id}/activate"}
	if rc.Authorizer == nil {
		t.Fatal("requestContext.authorizer missing")
	}
	if diff := cmp.Diff(want, rc.Authorizer.Lambda); diff != "" {
		t.Errorf("requestContext.authorizer.lambda (-want +got):\n%s", diff)
	}
}

func TestGatewayEncodesBinaryBodiesInBase64(t *testing.T) {
	f := newFakeAPI(t)
	bin := []byte{0xff, 0xfe, 0x00, 0x01}
	_, _ = f.do(t, "POST", "/campaigns", bin, nil)
	if !f.got.IsBase64Encoded || f.got.Body != base64.StdEncoding.EncodeToString(bin) {
		t.Errorf("body = %q base64 %v, want base64 of the bytes", f.got.Body, f.got.IsBase64Encoded)
	}
}

func TestGatewaySkipsTheAuthorizerOnlyWhereTheTemplateSaysNone(t *testing.T) {
	f := newFakeAPI(t)
	_, _ = f.do(t, "GET", "/im/health", nil, nil)
	if f.authCalls != 0 || f.got.RequestContext.Authorizer != nil {
		t.Errorf("health: authorizer called %d times, context %+v; want neither", f.authCalls, f.got.RequestContext.Authorizer)
	}
	_, _ = f.do(t, "GET", "/campaigns/c-1", nil, nil)
	if f.authCalls != 1 {
		t.Errorf("GET /campaigns/{id}: authorizer called %d times, want 1", f.authCalls)
	}
}

func TestGatewayAnswersForFailuresAsAPIGatewayDoes(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*fakeAPI)
		body       []byte
		wantStatus int
		wantBody   string
	}{
		{"an unauthorized simple response is a 403", func(f *fakeAPI) { f.authorize = false }, nil, 403, `{"message":"Forbidden"}`},
		{"a failing authorizer is a 500", func(f *fakeAPI) { f.authErr = errors.New("boom") }, nil, 500, `{"message":"Internal Server Error"}`},
		{"a failing function is a 500", func(f *fakeAPI) { f.handlerErr = errors.New("boom") }, nil, 500, `{"message":"Internal Server Error"}`},
		{"a body over 10 MB is a 413", func(*fakeAPI) {}, bytes.Repeat([]byte("a"), MaxBodyBytes+1), 413, `{"message":"Request Entity Too Large"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			tt.setup(f)
			resp, body := f.do(t, "POST", "/campaigns", tt.body, nil)
			if resp.StatusCode != tt.wantStatus || body != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestGatewayWritesTheFunctionResponse(t *testing.T) {
	f := newFakeAPI(t)
	f.resp = events.APIGatewayV2HTTPResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "image/png", "X-One": "1"},
		MultiValueHeaders: map[string][]string{"X-Many": {"a", "b"}},
		Cookies:           []string{"a=1; Path=/", "b=2"},
		Body:              base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G'}),
		IsBase64Encoded:   true,
	}
	resp, body := f.do(t, "POST", "/campaigns", nil, nil)
	if resp.StatusCode != 201 || body != "\x89PNG" {
		t.Errorf("got %d %q, want 201 and the decoded body", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-One") != "1" ||
		strings.Join(resp.Header.Values("X-Many"), ",") != "a,b" || strings.Join(resp.Header.Values("Set-Cookie"), "|") != "a=1; Path=/|b=2" {
		t.Errorf("headers = %v", resp.Header)
	}
	if resp.Header.Get("Apigw-Requestid") == "" {
		t.Error("no apigw-requestid header")
	}
}
