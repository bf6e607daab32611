package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/internal/console"
	"github.com/heraldhq/herald/internal/derrors"
)

// consoleRoutes serve the Herald Console's files. They are public: the
// page holds no data, and every API call it makes carries the bearer
// token of the person signed in. The files are flat, so one path
// parameter names any of them.
func consoleRoutes() map[string]route {
	serve := func(r *request, name string) (int, any, error) {
		a, ok := console.Lookup(name)
		if !ok {
			return 0, nil, derrors.New(derrors.NotFound, "the console has no file %q", safePath(name))
		}
		h := console.Headers(a)
		if etagMatches(r.header("if-none-match"), a.ETag) {
			delete(h, "Content-Type")
			return http.StatusNotModified, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotModified, Headers: h}, nil
		}
		return http.StatusOK, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: h, Body: string(a.Body)}, nil
	}
	return map[string]route{
		"GET /console/": {handle: func(_ context.Context, r *request) (int, any, error) {
			if p := r.event.RawPath; p != "" && !strings.HasSuffix(p, "/") {
				// The page's modules are relative to /console/.
				loc := r.basePath + "/console/"
				return http.StatusPermanentRedirect, events.APIGatewayV2HTTPResponse{StatusCode: http.StatusPermanentRedirect,
					Headers: map[string]string{"Location": loc}}, nil
			}
			return serve(r, console.Index)
		}},
		"GET /console/{file}": {handle: func(_ context.Context, r *request) (int, any, error) {
			return serve(r, r.param("file"))
		}},
	}
}
