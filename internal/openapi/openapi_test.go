package openapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/openapi"
)

// notYetServed are routes the document describes before the handlers
// serve them (a route being added on another branch). Remove an entry when
// its route lands in the tables: the test then says so.
var notYetServed []string

type document struct {
	OpenAPI string `json:"openapi"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths map[string]map[string]operation `json:"paths"`
}

type operation struct {
	Security    *[]any                     `json:"security"`
	RequestBody json.RawMessage            `json:"requestBody"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

func load(t *testing.T) document {
	t.Helper()
	var d document
	if err := json.Unmarshal(openapi.Document(), &d); err != nil {
		t.Fatalf("herald.openapi.json: %v", err)
	}
	return d
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// keys lists the document's operations as route keys ("POST /campaigns").
func (d document) keys() []string {
	var keys []string
	for path, item := range d.Paths {
		for m := range item {
			if slices.Contains(methods, m) {
				keys = append(keys, strings.ToUpper(m)+" "+path)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// The document describes every route of the route tables and no other
// (but the routes not served yet): a route added to a table without its
// description, or described and never served, fails here.
func TestTheDocumentDescribesEveryRouteOfTheTables(t *testing.T) {
	d := load(t)
	got := slices.DeleteFunc(d.keys(), func(k string) bool { return slices.Contains(notYetServed, k) })
	if diff := cmp.Diff(httpapi.RouteKeys(), got); diff != "" {
		t.Errorf("route tables (-) and document (+) differ:\n%s", diff)
	}
	for _, k := range notYetServed {
		if slices.Contains(httpapi.RouteKeys(), k) {
			t.Errorf("%s is served now: remove it from notYetServed", k)
		}
	}
}

// Every route is served under AJO's base path too: the document says so
// with a second server rather than a second copy of every path.
func TestTheDocumentNamesTheAJOBasePathAsAServer(t *testing.T) {
	d := load(t)
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", d.OpenAPI)
	}
	var urls []string
	for _, s := range d.Servers {
		urls = append(urls, s.URL)
	}
	if want := []string{"/", httpapi.AJOBasePath}; !slices.Equal(urls, want) {
		t.Errorf("servers %q, want %q", urls, want)
	}
	for path := range d.Paths {
		if strings.HasPrefix(path, httpapi.AJOBasePath+"/") {
			t.Errorf("%s: the /ajo twins are the second server, not paths", path)
		}
	}
}

// Every route that takes a credential documents the answers every such
// route can give, and every route with a body the 413 of its limit.
func TestEveryOperationDocumentsTheStatusesEveryRouteCanAnswer(t *testing.T) {
	d := load(t)
	for path, item := range d.Paths {
		for m, op := range item {
			if !slices.Contains(methods, m) {
				continue
			}
			key := strings.ToUpper(m) + " " + path
			want := []string{"405", "429"}
			if op.Security == nil || len(*op.Security) > 0 { // the document's default: a credential
				want = append(want, "400", "401", "403", "500", "503")
			}
			if op.RequestBody != nil {
				want = append(want, "413")
			}
			for _, s := range want {
				if _, ok := op.Responses[s]; !ok {
					t.Errorf("%s does not document %s", key, s)
				}
			}
		}
	}
}

// The embedded document is the edited one: herald.openapi.json.gz
// decompresses to herald.openapi.json (run go generate ./internal/openapi
// after editing the JSON).
func TestEmbeddedDocumentIsTheEditedOne(t *testing.T) {
	edited, err := os.ReadFile("herald.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(openapi.Document(), edited) {
		t.Fatal("herald.openapi.json.gz is not herald.openapi.json gzipped: run go generate ./internal/openapi")
	}
}
