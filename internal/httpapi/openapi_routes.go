package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/openapi"
)

// openapiRoutes serve Herald's OpenAPI document, public like the AJO
// contract it extends: the embedded bytes as they are, with their ETag so
// a client revalidates instead of downloading them again.
func openapiRoutes() map[string]route {
	return map[string]route{
		"GET /openapi.json": {handle: func(_ context.Context, r *request) (int, any, error) {
			h := map[string]string{"ETag": openapi.ETag(), "Cache-Control": "public, max-age=300"}
			if etagMatches(r.header("if-none-match"), openapi.ETag()) {
				return http.StatusNotModified, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotModified, Headers: h}, nil
			}
			h["Content-Type"] = "application/json"
			return http.StatusOK, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: h, Body: string(openapi.Document())}, nil
		}},
	}
}

// etagMatches reports whether an If-None-Match header names tag (or is
// "*"); weak tags compare by their opaque part, as RFC 9110 has it.
func etagMatches(header, tag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}
