package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixturesRender pins the benchmark fixtures' output as golden files,
// so the benchmarks measure a correct render.
func TestFixturesRender(t *testing.T) {
	email, sms, data := loadFixture(t)
	for _, tc := range []struct {
		name, src, golden string
		mode              Mode
	}{
		{"the order email renders as its golden file", email, "email.golden.html", HTML},
		{"the SMS renders as its golden file", sms, "sms.golden.txt", Text},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.src, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Render(data)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.golden)
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s mismatch (-want +got):\n-%s\n+%s", tc.golden, want, got)
			}
			if strings.Contains(got, "{{") || strings.Contains(got, "{%") {
				t.Errorf("output contains unrendered tags:\n%s", got)
			}
		})
	}
}
