package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/openapi"
)

// openapiRoutes serve Herald's OpenAPI document, public like the AJO
// contract it extends: to a client that accepts gzip, the embedded
// gzipped bytes as they are (19 KiB instead of 255), else the JSON; each
// representation with its own ETag, so a client revalidates instead of
// downloading it again.
func openapiRoutes() map[string]route {
	return map[string]route{
		"GET /openapi.json": {handle: func(_ context.Context, r *request) (int, any, error) {
			gz := acceptsGzip(r.header("accept-encoding"))
			tag := openapi.ETag()
			if gz {
				tag = openapi.GzipETag()
			}
			h := map[string]string{"ETag": tag, "Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding"}
			if etagMatches(r.header("if-none-match"), tag) {
				return http.StatusNotModified, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotModified, Headers: h}, nil
			}
			h["Content-Type"] = "application/json"
			if gz {
				h["Content-Encoding"] = "gzip"
				return http.StatusOK, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: h,
					Body: base64.StdEncoding.EncodeToString(openapi.Gzipped()), IsBase64Encoded: true}, nil
			}
			return http.StatusOK, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: h, Body: string(openapi.Document())}, nil
		}},
	}
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip:
// names it, or else "*", with a quality above 0 (RFC 9110, section
// 12.5.3: "gzip;q=0, *" refuses it).
func acceptsGzip(header string) bool {
	named, any := -1.0, -1.0
	for item := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(item, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			named = q
		case "*":
			any = q
		}
	}
	if named >= 0 {
		return named > 0
	}
	return any > 0
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
