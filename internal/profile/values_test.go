package profile_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// nested returns an attribute value nesting depth objects deep.
func nested(depth int) any {
	var v any = "leaf"
	for range depth {
		v = map[string]any{"n": v}
	}
	return v
}

func TestCheckAttributes(t *testing.T) {
	num := func(s string) any { return json.Number(s) }
	tests := []struct {
		name  string
		attrs map[string]any
		want  []derrors.FieldError
	}{
		{"ordinary values pass", map[string]any{"a": "x", "n": num("42"), "f": num("-19.99"), "b": true, "z": nil,
			"list": []any{num("1"), map[string]any{"k": "v"}}}, nil},
		{"zero in any spelling passes", map[string]any{"a": num("0"), "b": num("-0.000"), "c": num("0e999")}, nil},
		{"the largest magnitude passes", map[string]any{"a": num("9.9999999999999999999999999999999999999e125"), "b": num("-9.9999999999999999999999999999999999999E+125")}, nil},
		{"the smallest magnitude passes", map[string]any{"a": num("1e-130"), "b": num("-1E-130"), "c": num("0.0001e-126")}, nil},
		{"trailing and leading zeros are not significant digits", map[string]any{
			"a": num("1" + strings.Repeat("0", 100)), "b": num("0.000" + strings.Repeat("1", 38) + "000")}, nil},
		{"thirty-eight digits pass", map[string]any{"a": num(strings.Repeat("9", 38))}, nil},
		{"an empty key is named", map[string]any{"": num("1")},
			[]derrors.FieldError{{Field: "attributes", Message: "must not have an empty key"}}},
		{"an empty nested key is named by its parent", map[string]any{"a": []any{map[string]any{"": "x"}}},
			[]derrors.FieldError{{Field: "attributes.a[0]", Message: "must not have an empty key"}}},
		{"1e308 is too large", map[string]any{"big": num("1e308")},
			[]derrors.FieldError{{Field: "attributes.big", Message: "must be of magnitude 1e-130 to 9.99e125, or 0"}}},
		{"1e126 is too large", map[string]any{"big": num("1e126")},
			[]derrors.FieldError{{Field: "attributes.big", Message: "must be of magnitude 1e-130 to 9.99e125, or 0"}}},
		{"1e-131 is too small", map[string]any{"tiny": num("1e-131")},
			[]derrors.FieldError{{Field: "attributes.tiny", Message: "must be of magnitude 1e-130 to 9.99e125, or 0"}}},
		{"a negative number too large is refused", map[string]any{"n": []any{num("-1e200")}},
			[]derrors.FieldError{{Field: "attributes.n[0]", Message: "must be of magnitude 1e-130 to 9.99e125, or 0"}}},
		{"an exponent beyond any range is refused", map[string]any{"n": num("1e99999999999999999999")},
			[]derrors.FieldError{{Field: "attributes.n", Message: "must be of magnitude 1e-130 to 9.99e125, or 0"}}},
		{"thirty-nine significant digits are refused", map[string]any{"id": num(strings.Repeat("9", 39))},
			[]derrors.FieldError{{Field: "attributes.id", Message: "must have at most 38 significant digits"}}},
		{"a float out of range is refused", map[string]any{"f": 1e300},
			[]derrors.FieldError{{Field: "attributes.f", Message: "must be of magnitude 1e-130 to 9.99e125, or 0"}}},
		{"thirty levels of nesting pass", map[string]any{"deep": nested(profile.MaxAttributeDepth)}, nil},
		{"thirty-one levels of nesting are refused", map[string]any{"deep": nested(profile.MaxAttributeDepth + 1)},
			[]derrors.FieldError{{Field: "attributes.deep" + strings.Repeat(".n", profile.MaxAttributeDepth), Message: "nests more than 30 levels deep"}}},
		{"a string that is not UTF-8 is refused", map[string]any{"s": "f\xffz"},
			[]derrors.FieldError{{Field: "attributes.s", Message: "must be valid UTF-8"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f derrors.Fields
			profile.CheckAttributes(&f, "attributes", tt.attrs)
			if diff := cmp.Diff(tt.want, []derrors.FieldError(f)); diff != "" {
				t.Errorf("CheckAttributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckAttributesListsAtMostTwentyProblems(t *testing.T) {
	attrs := map[string]any{}
	for i := range 100 {
		attrs[strings.Repeat("k", i+1)] = json.Number("1e999")
	}
	var f derrors.Fields
	profile.CheckAttributes(&f, "attributes", attrs)
	if len(f) != 20 {
		t.Errorf("CheckAttributes listed %d problems, want 20", len(f))
	}
}

func TestIdentitiesRefuseEveryControlCharacter(t *testing.T) {
	for _, id := range []string{"4\x002", "4\v2", "4\u00852", "4\u20282", "4\u20292", "4\x7f2", "4\xff2"} {
		t.Run("the id "+strings.ToValidUTF8(id, "?")+" is refused", func(t *testing.T) {
			var f derrors.Fields
			profile.ValidateIdentity(&f, "userId", profile.Identity{Namespace: "crmId", ID: id})
			if diff := cmp.Diff([]string{"userId"}, fieldNames(f)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func fieldNames(f []derrors.FieldError) []string {
	var out []string
	for _, e := range f {
		out = append(out, e.Field)
	}
	return out
}

// refusingStore is a memory store whose PutBatch fails the profiles with
// the ids in refuse with err.
type refusingStore struct {
	*memory.Store
	refuse map[string]error
}

func (s refusingStore) PutBatch(ctx context.Context, t tenant.Tenant, ps []profile.Profile) []error {
	errs := make([]error, len(ps))
	var keep []profile.Profile
	var at []int
	for i, p := range ps {
		if err, ok := s.refuse[p.ID]; ok {
			errs[i] = err
			continue
		}
		keep, at = append(keep, p), append(at, i)
	}
	for k, err := range s.Store.PutBatch(ctx, t, keep) {
		errs[at[k]] = err
	}
	return errs
}

func TestBatchNeverAsksToRetryWhatCannotSucceed(t *testing.T) {
	store := refusingStore{Store: memory.New(), refuse: map[string]error{
		"refused":   derrors.New(derrors.Invalid, "the store refused the profile"),
		"throttled": derrors.New(derrors.Throttled, "slow down"),
		"broken":    errors.New("connection reset"),
	}}
	svc := &profile.Service{Store: store}
	items := []profile.BatchItem{
		{Namespace: "crmId", ID: "ok"},
		{Namespace: "crmId", ID: "refused"},
		{Namespace: "crmId", ID: "bad-number", Input: profile.Input{Attributes: map[string]any{"n": json.Number("1e308")}}},
		{Namespace: "crmId", ID: "empty-key", Input: profile.Input{Attributes: map[string]any{"": json.Number("1")}}},
		{Namespace: "crmId", ID: "throttled"},
		{Namespace: "crmId", ID: "broken"},
	}
	res, err := svc.Batch(context.Background(), acme, items)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range res {
		got[r.ID] = r.Status
		if r.Status == 400 && strings.Contains(r.Detail, "retry") {
			t.Errorf("%s: status 400 with detail %q, which asks for a retry", r.ID, r.Detail)
		}
	}
	want := map[string]int{"ok": 200, "refused": 400, "bad-number": 400, "empty-key": 400, "throttled": 503, "broken": 500}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := store.Profiles(); n != 1 {
		t.Errorf("%d profiles stored, want 1 (ok)", n)
	}
}
