package delivery_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/delivery"
)

func TestData(t *testing.T) {
	stored := map[string]any{
		"tier":   "gold",
		"person": map[string]any{"name": map[string]any{"firstName": "Jane", "lastName": "Doe"}, "age": 40},
		"tags":   []any{"a"},
	}
	override := map[string]any{
		"person": map[string]any{"name": map[string]any{"firstName": "J"}},
		"tags":   []any{"b"},
		"tier":   map[string]any{"level": "platinum"},
	}
	ctx := map[string]any{"orderId": "A1"}

	got := delivery.Data(stored, override, ctx)
	want := map[string]any{
		"profile": map[string]any{
			"tier":   map[string]any{"level": "platinum"},
			"person": map[string]any{"name": map[string]any{"firstName": "J", "lastName": "Doe"}, "age": 40},
			"tags":   []any{"b"},
		},
		"context": map[string]any{"orderId": "A1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Data() mismatch (-want +got):\n%s", diff)
	}
	wantStored := map[string]any{
		"tier":   "gold",
		"person": map[string]any{"name": map[string]any{"firstName": "Jane", "lastName": "Doe"}, "age": 40},
		"tags":   []any{"a"},
	}
	if diff := cmp.Diff(wantStored, stored); diff != "" {
		t.Errorf("Data() modified the stored attributes (-want +got):\n%s", diff)
	}
}

func TestDataWithNothingIsEmptyObjects(t *testing.T) {
	want := map[string]any{"profile": map[string]any{}, "context": map[string]any{}}
	if diff := cmp.Diff(want, delivery.Data(nil, nil, nil)); diff != "" {
		t.Errorf("Data(nil, nil, nil) mismatch (-want +got):\n%s", diff)
	}
}
