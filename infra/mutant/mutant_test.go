package mutant_test

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/mutant"
)

func seed() mutant.Request {
	return mutant.Request{Route: "PUT /profiles/{namespace}/{id}", Params: map[string]string{"namespace": "crmId", "id": "42"},
		Body: []byte(`{"attributes":{"firstName":"Jane","score":42,"tags":["a","b"]},"consent":{"email":"y"}}`)}
}

func TestTheSameSeedMakesTheSameMutants(t *testing.T) {
	a, b := mutant.New(7), mutant.New(7)
	for i := range 200 {
		ma, mb := a.Mutate(seed()), b.Mutate(seed())
		if diff := cmp.Diff(ma, mb); diff != "" {
			t.Fatalf("mutant %d differs between two mutators of one seed (-a +b):\n%s", i, diff)
		}
	}
}

func TestMutantsVaryAndReachTheHostileCases(t *testing.T) {
	m := mutant.New(1)
	in := seed()
	var changed, notUTF8, notJSONish, params, query int
	for range 2000 {
		r := m.Mutate(in)
		if !bytes.Equal(r.Body, seed().Body) {
			changed++
		}
		if !utf8.Valid(r.Body) {
			notUTF8++
		}
		if bytes.Contains(r.Body, []byte(`\ud8`)) || bytes.Contains(r.Body, []byte(`\udc`)) || bytes.Contains(r.Body, []byte("1e308")) {
			notJSONish++
		}
		if r.Params["id"] != "42" || r.Params["namespace"] != "crmId" {
			params++
		}
		if len(r.Query) > 0 {
			query++
		}
	}
	for name, n := range map[string]int{"changed bodies": changed, "invalid UTF-8": notUTF8, "surrogates or 1e308": notJSONish,
		"changed path parameters": params, "query parameters": query} {
		if n < 20 {
			t.Errorf("%d of 2000 mutants have %s, want at least 20", n, name)
		}
	}
	if diff := cmp.Diff(seed(), in); diff != "" {
		t.Errorf("Mutate changed its input (-want +got):\n%s", diff)
	}
}

func TestSeedsCoverEveryRoute(t *testing.T) {
	seeds, err := mutant.Seeds()
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, s := range seeds {
		routes[s.Route] = true
	}
	// Every route of the management and execution APIs: the route
	// tables of internal/httpapi (*_routes.go, trigger.go) hold 56.
	if len(routes) != 56 {
		t.Errorf("the seeds cover %d routes, want 56", len(routes))
	}
}
