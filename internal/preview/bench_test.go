package preview_test

import (
	"context"
	"testing"

	"github.com/heraldhq/herald/internal/preview"
)

// BenchmarkPreview renders a preview of a live email campaign (content
// parsed per call, as the Manage function does) on the memory store.
func BenchmarkPreview(b *testing.B) {
	f := newFixture(b)
	id := f.campaign(b, true)
	req := preview.Request{Profile: obj(b, map[string]any{"person": map[string]any{"name": map[string]any{"firstName": "Jane"}}, "tier": "gold"}),
		Context: obj(b, map[string]any{"orderId": "A-1", "items": []any{map[string]any{"name": "Shoes", "qty": 1}}})}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Preview(ctx, acme, id, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReview reviews the same campaign.
func BenchmarkReview(b *testing.B) {
	f := newFixture(b)
	id := f.campaign(b, false)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.camps.Review(ctx, acme, id); err != nil {
			b.Fatal(err)
		}
	}
}
