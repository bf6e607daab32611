package render

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// logCoder is logsafe.Coder (not imported: the engine stands alone).
type logCoder interface{ LogCode() string }

func TestErrorsNameThemselvesForLogsWithoutData(t *testing.T) {
	const secret = "jane.doe@example.com"
	data := map[string]any{"card": secret, "when": secret}
	tests := []struct {
		name, src string
		want      []string // the LogCodes along the chain
	}{
		{"a helper refusing a value is its position and helper", "Hi\n  {{formatNumber card 2}}",
			[]string{"render_error 2:5", "helper formatNumber", "not a number"}},
		{"a date helper too", `{{formatDate when "yyyy"}}`,
			[]string{"render_error 1:3", "helper formatDate", "not an ISO-8601 date or epoch milliseconds"}},
		{"a missing value in strict mode is its position, not its path", "{{profile.cardNumber}}",
			[]string{"render_error 1:3", "missing value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := Parse(tt.src, Text, WithStrict())
			if err != nil {
				t.Fatal(err)
			}
			err = tpl.Execute(io.Discard, data)
			if err == nil {
				t.Fatal("Execute succeeded, want an error")
			}
			var got []string
			for e := err; e != nil; e = errors.Unwrap(e) {
				if c, ok := e.(logCoder); ok {
					got = append(got, c.LogCode())
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LogCodes of %q (-want +got):\n%s", err, diff)
			}
			if j := strings.Join(got, " "); strings.Contains(j, secret) || strings.Contains(j, "cardNumber") {
				t.Errorf("LogCodes %q hold the data or the path", got)
			}
		})
	}
}

func TestSyntaxErrorNamesItsPositionOnly(t *testing.T) {
	_, err := Parse("ok\n{{#if}}jane.doe@example.com", Text)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Parse error = %v, want a *SyntaxError", err)
	}
	if got := se.LogCode(); !strings.HasPrefix(got, "template_syntax 2:") || strings.Contains(got, "jane") {
		t.Errorf("LogCode() = %q, want template_syntax 2:<col>", got)
	}
}
