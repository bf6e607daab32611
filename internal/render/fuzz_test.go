package render

import (
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// FuzzParseExecute checks that no template and data can make Parse or
// Execute panic or run unbounded, and that errors have the documented types.
func FuzzParseExecute(f *testing.F) {
	seeds := []struct{ src, data string }{
		{"Hi {{name}}!", `{"name":"Ann"}`},
		{"{{#each a as |x i|}}{{i}}{{x.b}}{{../c}}{{else}}none{{/each}}", `{"a":[{"b":1},{"b":"<"}],"c":true}`},
		{"{{#if a}}A{{else if b}}B{{else}}C{{/if}}", `{"b":0}`},
		{"{%= p.first ?: \"there\" %}{%#if n > 2 and not x %}y{%else if n = 1%}z{%/if%}", `{"n":3}`},
		{"{% let g = a ?: 1 %}{{g}}{{#with o}}{{k}}{{/with}}", `{"o":{"k":"v"}}`},
		{"{{~#each o~}} {{@key}}={{this}} {{~/each~}}", `{"o":{"a":1,"b":[1,2]}}`},
		{"{{formatNumber n 2 grouping=\",\"}} {{formatDate d \"yyyy-MM-dd HH:mm XXX\" \"Europe/Paris\"}}", `{"n":1234.5,"d":"2026-01-01T00:00:00Z"}`},
		{"{{upper (concat a (lower b))}} {{truncate s 3 \"…\"}} {{json o}} {{join l}}", `{"a":"x","b":"Y","s":"héllo","o":{"k":[1]},"l":[1,2]}`},
		{"{{#list}}{{.}}{{/list}}{{^empty}}e{{/empty}}{{! c }}{{!-- c --}}\\{{x}}", `{"list":[1,2],"empty":[]}`},
		{"{{{raw}}}{{&raw}}{{[a b].c}}{{@root.x}}", `{"raw":"<b>","x":1}`},
	}
	for _, s := range seeds {
		f.Add(s.src, s.data, uint8(0))
	}
	f.Fuzz(func(t *testing.T, src, rawData string, flags uint8) {
		opts := []Option{WithMaxOutput(1 << 16), WithMaxSteps(1 << 16)}
		if flags&1 != 0 {
			opts = append(opts, WithStrict())
		}
		if flags&2 != 0 {
			opts = append(opts, WithCompat())
		}
		mode := HTML
		if flags&4 != 0 {
			mode = Text
		}
		tmpl, err := Parse(src, mode, opts...)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error %T %v, want *SyntaxError", err, err)
			}
			return
		}
		_ = tmpl.Variables()
		var d any
		if json.Unmarshal([]byte(rawData), &d) != nil {
			d = map[string]any{"s": rawData}
		}
		if err := tmpl.Execute(io.Discard, d); err != nil {
			var ee *ExecError
			if !errors.As(err, &ee) {
				t.Fatalf("Execute error %T %v, want *ExecError", err, err)
			}
		}
	})
}
