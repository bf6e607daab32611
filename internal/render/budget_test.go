package render

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// totalAlloc returns the bytes the process allocated while f ran. Tests
// in this package do not run in parallel, so the figure is f's.
func totalAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// nested wraps inner in levels calls of "helper (…) args", the shape of
// the memory bombs of issue 10.
func nested(helper, inner, args string, levels int) string {
	s := inner
	for range levels {
		s = "(" + helper + " " + s + " " + args + ")"
	}
	return "{{" + s[1:len(s)-1] + "}}"
}

// withs chains levels {{#with}} blocks, each binding the result of expr
// (with X standing for the previous block param) to a new block param,
// and writes the last: the expression tags' {% let %} cannot call helpers,
// so block params are how a template names a helper's result.
func withs(first, expr string, levels int) string {
	var b strings.Builder
	b.WriteString("{{#with " + first + " as |v0|}}")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "{{#with (%s) as |v%d|}}", strings.ReplaceAll(expr, "X", fmt.Sprintf("v%d", i-1)), i)
	}
	fmt.Fprintf(&b, "{{v%d}}", levels)
	b.WriteString(strings.Repeat("{{/with}}", levels+1))
	return b.String()
}

func ctxData(kv ...any) map[string]any {
	ctx := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		ctx[kv[i].(string)] = kv[i+1]
	}
	return map[string]any{"profile": map[string]any{}, "context": ctx}
}

func list(n int, elem any) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = elem
	}
	return l
}

// TestBombsStopBeforeTheyAllocate renders templates whose result would
// multiply far past the output cap and checks that each fails with the
// documented error having allocated less than four times the cap: every
// helper charges what it is about to build before building it. Memory is
// asserted; time is only reported.
func TestBombsStopBeforeTheyAllocate(t *testing.T) {
	const cap = DefaultMaxOutput
	ten := strings.Repeat("a", 10)
	for _, tc := range []struct {
		name  string
		src   string
		data  any
		want  error
		limit uint64 // bytes TotalAlloc must stay under
	}{
		{name: "seven nested replaces of literals stop at the output cap",
			src:  nested("replace", `"aaaaaaaaaa"`, `"a" "aaaaaaaaaa"`, 7),
			want: ErrOutputLimit, limit: 4 * cap},
		{name: "seven nested replaces driven by context values stop at the output cap",
			src:  nested("replace", "context.s", `"a" context.r`, 7),
			data: ctxData("s", ten, "r", ten), want: ErrOutputLimit, limit: 4 * cap},
		{name: "replaces chained through block params stop at the output cap",
			src:  withs("context.s", `replace X "a" @root.context.r`, 7),
			data: ctxData("s", ten, "r", ten), want: ErrOutputLimit, limit: 4 * cap},
		{name: "one replace of a large context value by a large context value stops at the output cap",
			src:  `{{replace context.s "a" context.r}}`,
			data: ctxData("s", strings.Repeat("a", 100_000), "r", strings.Repeat("b", 1000)), want: ErrOutputLimit, limit: 4 * cap},
		{name: "concat doubling through block params stops at the output cap",
			src:  withs("context.s", "concat X X", 40),
			data: ctxData("s", ten), want: ErrOutputLimit, limit: 4 * cap},
		{name: "join with a large context separator stops at the output cap",
			src:  `{{join context.l context.sep}}`,
			data: ctxData("l", list(10_000, 1.0), "sep", strings.Repeat(",", 10_000)), want: ErrOutputLimit, limit: 4 * cap},
		{name: "formatNumber with a large context grouping separator stops at the output cap",
			src:  `{{formatNumber context.n 2 grouping=context.sep}}`,
			data: ctxData("n", 1e308, "sep", strings.Repeat(",", 100_000)), want: ErrOutputLimit, limit: 4 * cap},
		{name: "nested json stops at the output cap",
			src:  nested("json", "context.s", "", 24),
			data: ctxData("s", "<<<<<<<<<<"), want: ErrOutputLimit, limit: 4 * cap},
		{name: "upper of a value doubled through block params stops at the output cap",
			src:  withs("context.s", "upper (concat X X)", 40),
			data: ctxData("s", "ɐɐɐɐɐ"), want: ErrOutputLimit, limit: 4 * cap},
		{name: "a loop writing a large value stops at the output cap",
			src:  `{{#each context.l}}{{@root.context.s}}{{/each}}`,
			data: ctxData("l", list(1000, 1.0), "s", strings.Repeat("<", 100_000)), want: ErrOutputLimit, limit: 4 * cap},
		{name: "a silent loop of replaces is stopped by the allocation budget",
			src:  `{{#each context.l}}{{#each @root.context.l}}{{#if (eq (replace @root.context.s "a" "bb") "x")}}{{/if}}{{/each}}{{/each}}`,
			data: ctxData("l", list(300, 1.0), "s", strings.Repeat("a", 10_000)), want: ErrAllocLimit, limit: 4*cap + 2*cap},
		{name: "a silent loop of helpers on small values is stopped by the allocation budget",
			src:  `{{#each context.l}}{{#each @root.context.l}}{{#if (eq (concat @root.context.s this) "x")}}{{/if}}{{/each}}{{/each}}`,
			data: ctxData("l", list(2000, 1.0), "s", strings.Repeat("a", 30)), want: ErrAllocLimit, limit: 4*cap + 2*cap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.src, HTML)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var execErr error
			start := time.Now()
			n := totalAlloc(func() { execErr = tmpl.Execute(discard{}, tc.data) })
			t.Logf("template %d bytes: %v after allocating %d bytes in %v", len(tc.src), execErr, n, time.Since(start))
			if !errors.Is(execErr, tc.want) {
				t.Errorf("Execute = %v, want %v", execErr, tc.want)
			}
			if n >= tc.limit {
				t.Errorf("Execute allocated %d bytes, want under %d", n, tc.limit)
			}
		})
	}
}

// discard is io.Discard without its ReaderFrom, so nothing outside the
// engine allocates while it is measured.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestAllocationBudget(t *testing.T) {
	t.Run("WithMaxAlloc lowers the budget", func(t *testing.T) {
		tmpl, err := Parse(`{{#each l}}{{#if (eq (concat "x" this) "y")}}{{/if}}{{/each}}`, HTML, WithMaxAlloc(100))
		if err != nil {
			t.Fatal(err)
		}
		err = tmpl.Execute(discard{}, map[string]any{"l": list(100, "abcdefghij")})
		if !errors.Is(err, ErrAllocLimit) {
			t.Errorf("Execute = %v, want ErrAllocLimit", err)
		}
	})
	t.Run("the budget is per Execute", func(t *testing.T) {
		tmpl, err := Parse(`{{concat "x" s}}`, HTML, WithMaxAlloc(100))
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if err := tmpl.Execute(discard{}, map[string]any{"s": "abcdefghij"}); err != nil {
				t.Fatalf("Execute = %v, want nil every time", err)
			}
		}
	})
	t.Run("the default budget follows the output cap", func(t *testing.T) {
		tmpl, err := Parse(`{{#each l}}{{#if (eq (concat "x" this) "y")}}{{/if}}{{/each}}`, HTML, WithMaxOutput(100))
		if err != nil {
			t.Fatal(err)
		}
		err = tmpl.Execute(discard{}, map[string]any{"l": list(DefaultAllocFactor*10, "abcdefghij")})
		if !errors.Is(err, ErrAllocLimit) {
			t.Errorf("Execute = %v, want ErrAllocLimit", err)
		}
	})
	t.Run("a long ordinary email stays well within the default budget", func(t *testing.T) {
		items := make([]any, 2000)
		for i := range items {
			items[i] = map[string]any{"name": "Blue cotton shirt, size M", "price": 1234.5, "date": "2026-07-14T20:30:00Z"}
		}
		tmpl, err := Parse(`{{#each items}}<tr><td>{{upper name}}</td><td>{{formatNumber price 2 grouping=","}}</td><td>{{formatDate date "d MMM yyyy"}}</td><td>{{truncate name 10 "…"}}</td></tr>{{/each}}`, HTML)
		if err != nil {
			t.Fatal(err)
		}
		if err := tmpl.Execute(discard{}, map[string]any{"items": items}); err != nil {
			t.Errorf("Execute = %v, want nil", err)
		}
	})
	t.Run("a string helper may not build past the output cap even when nothing is written", func(t *testing.T) {
		tmpl, err := Parse(`{{#if (eq (concat s s) "x")}}{{/if}}`, HTML, WithMaxOutput(15))
		if err != nil {
			t.Fatal(err)
		}
		err = tmpl.Execute(discard{}, map[string]any{"s": "abcdefgh"})
		if !errors.Is(err, ErrOutputLimit) {
			t.Errorf("Execute = %v, want ErrOutputLimit", err)
		}
	})
	t.Run("escaped output is measured against the cap before it is written", func(t *testing.T) {
		tmpl, err := Parse(`{{s}}`, HTML, WithMaxOutput(10))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		err = tmpl.Execute(&b, map[string]any{"s": "<<<"})
		if !errors.Is(err, ErrOutputLimit) || b.Len() != 0 {
			t.Errorf("Execute = %v with %q written, want ErrOutputLimit and nothing", err, b.String())
		}
		if got, err := tmpl.Render(map[string]any{"s": "<<"}); err != nil || got != "&lt;&lt;" {
			t.Errorf("Render = %q, %v; want the 8 escaped bytes", got, err)
		}
	})
}

func TestExecuteRecoversPanics(t *testing.T) {
	secret := "4111 1111 1111 1111"
	helpers := map[string]Helper{
		"boom": func(args []any, _ map[string]any) (any, error) { panic("card " + args[0].(string)) },
	}
	tmpl, err := Parse("ok\n  {{boom card}}", HTML, WithHelpers(helpers))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // a panicking state is not pooled again
		var b strings.Builder
		err = tmpl.Execute(&b, map[string]any{"card": secret})
		var ee *ExecError
		if !errors.As(err, &ee) || !errors.Is(err, ErrPanic) || ee.Line != 2 || ee.Col != 5 {
			t.Fatalf("Execute = %v, want *ExecError wrapping ErrPanic at the helper, line 2, col 5", err)
		}
		if strings.Contains(err.Error(), secret) || b.Len() != 0 {
			t.Errorf("Execute = %v with %q written: want no value in the error and nothing written", err, b.String())
		}
	}
}

// TestHelperErrorsDoNotQuoteValues checks that errors, which callers log,
// name the helper and the position but never the data that failed.
func TestHelperErrorsDoNotQuoteValues(t *testing.T) {
	const secret = "ann.secret@example.com"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"formatDate of a value that is not a date", `{{formatDate v "yyyy"}}`, `line 1, col 3: helper formatDate: not an ISO-8601 date or epoch milliseconds`},
		{"formatDate in an unknown time zone", `{{formatDate "2026-01-01" "yyyy" v}}`, `line 1, col 3: helper formatDate: unknown time zone`},
		{"formatDate with a bad pattern", `{{formatDate "2026-01-01" v}}`, `line 1, col 3: helper formatDate: unsupported letter in date pattern`},
		{"formatNumber of a value that is not a number", `{{formatNumber v}}`, `line 1, col 3: helper formatNumber: not a number`},
		{"formatNumber with decimals that are not a number", `{{formatNumber 1 v}}`, `line 1, col 3: helper formatNumber: decimals must be an integer`},
		{"truncate with a length that is not a number", `{{truncate "abc" v}}`, `line 1, col 3: helper truncate: truncate length must be an integer`},
		{"a subexpression reports its own position", `{{upper (formatNumber v)}}`, `line 1, col 9: helper formatNumber: not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.src, HTML)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Render(map[string]any{"v": secret})
			if err == nil {
				t.Fatal("Render succeeded, want an error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error mismatch (-want +got):\n-%s\n+%s", tc.want, got)
			}
		})
	}
}
