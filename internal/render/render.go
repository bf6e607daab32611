// Package render is Herald's personalization engine: it parses message
// templates once and executes them many times against per-recipient data.
//
// Templates use Handlebars syntax ({{path}}, {{#if}}, {{#each}}, helpers,
// whitespace control, mustache sections) plus the expression tags of Adobe
// Journey Optimizer ({%= expr ?: "fallback" %}, {%#if cond %}, {% let %}),
// so that content authored for either system renders here unchanged.
//
// Data is best given as an Object, decoded once from the JSON it came in
// (see Object): it keeps the members' order, which {{#each}} follows as
// Handlebars does, and renders without allocating.
//
// Parsing compiles the source into a tree of nodes whose paths are already
// split into segments and whose helpers are already resolved; unknown helpers
// and malformed tags are reported by Parse as a *SyntaxError, never at send
// time. Execute walks that tree with a pooled state and renders into a pooled
// buffer, so a typical email costs a few microseconds and a handful of
// allocations; the output is written to the io.Writer in one call, and
// nothing is written if execution fails.
//
// In HTML mode every value is escaped exactly as Handlebars escapes it unless
// the author used {{{ }}} or {{& }}: recipient data can never inject markup
// by itself. A value that starts a URL attribute (href, src, …) with a
// javascript:, vbscript: or data: scheme is written as "#", triple stash
// included, since escaping cannot make such a link safe (see html.go).
package render

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Mode selects how values are written to the output.
type Mode uint8

const (
	// HTML escapes & < > " ' ` = in every value written by {{ }} and {%= %},
	// as Handlebars does. Use it for email bodies.
	HTML Mode = iota
	// Text writes values verbatim. Use it for SMS, push and subject lines.
	Text
)

// String returns "HTML" or "Text".
func (m Mode) String() string {
	if m == Text {
		return "Text"
	}
	return "HTML"
}

// Defaults for the safety limits; see the corresponding options.
const (
	DefaultMaxDepth  = 64
	DefaultMaxOutput = 1 << 20
	DefaultMaxSteps  = 1 << 22
	// DefaultAllocFactor sets the allocation budget, when WithMaxAlloc is
	// not given, to this many times the output cap: room for every helper
	// of a long message to build its strings, far below what a template
	// multiplying its data could churn through.
	DefaultAllocFactor = 4
)

// Helper is a custom helper registered with WithHelpers. It receives the
// positional arguments and the hash (key=value) arguments in the
// encoding/json data model; missing values arrive as nil. A string result is
// escaped in HTML mode, a SafeString result is not. A non-nil error aborts
// Execute with an *ExecError wrapping it; since callers log render errors,
// the error should say what is wrong without quoting the data. A panic
// aborts Execute with ErrPanic. The engine cannot see what a custom helper
// allocates: the boxing of its arguments is charged to the allocation
// budget before the call, its string or array result after it.
type Helper func(args []any, hash map[string]any) (any, error)

// Option configures Parse.
type Option func(*config)

type config struct {
	strict    bool
	compat    bool
	maxDepth  int
	maxOutput int
	maxSteps  int
	maxAlloc  int
	helpers   map[string]*helperDef
	locale    *Locale
}

// WithStrict makes Execute fail with an *ExecError wrapping ErrMissing when a
// value that is written to the output ({{x}}, {{{x}}}, {%= x %}), passed to a
// helper, or iterated/entered by #each/#with is missing. Conditions (#if,
// #unless, {%#if %}, mustache sections), the left side of ?: and the first
// argument of default may still test for absence, which is their purpose.
func WithStrict() Option { return func(c *config) { c.strict = true } }

// WithCompat enables Handlebars' compat mode: a path whose first segment is
// not found in the current context is looked up in the enclosing contexts, as
// mustache does. Off by default, as in Handlebars.
func WithCompat() Option { return func(c *config) { c.compat = true } }

// WithMaxDepth bounds block and subexpression nesting (default
// DefaultMaxDepth); deeper templates fail to parse.
func WithMaxDepth(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxDepth = n
		}
	}
}

// WithMaxOutput bounds the rendered size in bytes (default DefaultMaxOutput);
// Execute fails with ErrOutputLimit beyond it. No helper may build a string
// larger than the cap either, since it could not be written: nested helpers
// fail before they build past it rather than after.
func WithMaxOutput(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxOutput = n
		}
	}
}

// WithMaxAlloc bounds the bytes the helpers of one Execute may allocate for
// the strings they build (default DefaultAllocFactor times the output cap).
// The output cap alone cannot bound a template that builds strings it never
// writes, such as a comparison inside nested loops; each helper charges its
// result before building it, and Execute fails with ErrAllocLimit instead.
func WithMaxAlloc(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxAlloc = n
		}
	}
}

// WithMaxSteps bounds the number of nodes Execute may evaluate (default
// DefaultMaxSteps), so nested #each over large data cannot run for long even
// when it writes nothing; Execute fails with ErrStepLimit beyond it.
func WithMaxSteps(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxSteps = n
		}
	}
}

// WithHelpers registers custom helpers, which may shadow built-in ones. Names
// must be Handlebars identifiers.
func WithHelpers(h map[string]Helper) Option {
	return func(c *config) {
		for name, fn := range h {
			if fn == nil {
				continue
			}
			c.helpers[name] = customHelper(name, fn)
		}
	}
}

// SyntaxError reports a malformed template. Line and Col are 1-based; Col
// counts runes.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

// Error returns e.g. `line 3, col 14: expected "}}" after path`.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// LogCode names the error for logs by its position only ("template_syntax
// 3:14"): Msg may quote the template.
func (e *SyntaxError) LogCode() string {
	return fmt.Sprintf("template_syntax %d:%d", e.Line, e.Col)
}

// constError is an error whose text is a constant of this package: it
// never quotes the data or the template, so logs may name it (LogCode).
type constError string

func (e constError) Error() string { return string(e) }

// LogCode returns the error's constant text.
func (e constError) LogCode() string { return string(e) }

// Errors wrapped by *ExecError; test for them with errors.Is.
var (
	// ErrMissing is returned in strict mode when a required value is missing.
	ErrMissing error = constError("missing value")
	// ErrOutputLimit is returned when the output exceeds WithMaxOutput.
	ErrOutputLimit error = constError("output size limit exceeded")
	// ErrStepLimit is returned when execution exceeds WithMaxSteps.
	ErrStepLimit error = constError("execution step limit exceeded")
	// ErrAllocLimit is returned when the helpers of one Execute would
	// allocate more than WithMaxAlloc. It is distinct from ErrOutputLimit
	// because the message may be short: the template built, and threw away,
	// too much on its way.
	ErrAllocLimit error = constError("allocation limit exceeded")
	// ErrPanic is returned when Execute recovered from a panic, a custom
	// helper's or the engine's own. The panic value is not kept, since it
	// may hold data.
	ErrPanic error = constError("render panicked")
)

// ExecError reports a failure during Execute at a tag of the template. Path
// is the data path involved (in strict mode, the one that was missing), or
// empty. Err is ErrMissing, ErrOutputLimit, ErrAllocLimit, ErrStepLimit,
// ErrPanic or a *HelperError. Built-in helpers never quote the value they
// failed on; logs still name the error by its LogCode alone.
type ExecError struct {
	Line, Col int
	Path      string
	Err       error
}

// Error returns e.g. `line 2, col 7: missing value for "profile.name"`.
func (e *ExecError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("line %d, col %d: %v for %q", e.Line, e.Col, e.Err, e.Path)
	}
	return fmt.Sprintf("line %d, col %d: %v", e.Line, e.Col, e.Err)
}

// Unwrap returns the underlying error.
func (e *ExecError) Unwrap() error { return e.Err }

// LogCode names the error for logs by its position ("render_error 2:7"),
// not its path; what went wrong follows from Err (a constant of this
// package, or a helper's error named by its helper).
func (e *ExecError) LogCode() string {
	return fmt.Sprintf("render_error %d:%d", e.Line, e.Col)
}

// HelperError is a helper's failure: Err, the helper's own error, says
// what is wrong without quoting the value (built-in helpers never do).
type HelperError struct {
	Helper string
	Err    error
}

// Error returns e.g. `helper formatDate: not an ISO-8601 date or epoch
// milliseconds`.
func (e *HelperError) Error() string { return "helper " + e.Helper + ": " + e.Err.Error() }

// Unwrap returns the helper's error.
func (e *HelperError) Unwrap() error { return e.Err }

// LogCode names the helper (a name from the template's helper table, not
// from data).
func (e *HelperError) LogCode() string { return "helper " + e.Helper }

// Template is a parsed template. It is immutable and safe for concurrent use
// by multiple goroutines.
type Template struct {
	mode      Mode
	root      []node
	nslots    int
	nhints    int
	vars      []string
	src       string
	strict    bool
	compat    bool
	maxOutput int
	maxSteps  int
	maxAlloc  int
	locale    *Locale // nil: English names, plain numbers
	pool      sync.Pool
}

// Parse compiles src. Every helper must be known at parse time (built-in or
// registered with WithHelpers); malformed tags, unknown helpers, wrong
// argument counts and excessive nesting are reported as *SyntaxError.
func Parse(src string, mode Mode, opts ...Option) (*Template, error) {
	cfg := config{
		maxDepth:  DefaultMaxDepth,
		maxOutput: DefaultMaxOutput,
		maxSteps:  DefaultMaxSteps,
		helpers:   make(map[string]*helperDef, len(builtins())),
	}
	for name, h := range builtins() {
		cfg.helpers[name] = h
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxAlloc == 0 {
		cfg.maxAlloc = DefaultAllocFactor * cfg.maxOutput
	}
	p := newParser(src, mode, &cfg)
	nodes, err := p.parseTemplate()
	if err != nil {
		return nil, err
	}
	vars := make([]string, 0, len(p.vars))
	for v := range p.vars {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	t := &Template{
		mode:      mode,
		root:      nodes,
		nslots:    p.nslots,
		nhints:    p.nhints,
		vars:      vars,
		src:       src,
		strict:    cfg.strict,
		compat:    cfg.compat,
		maxOutput: cfg.maxOutput,
		maxSteps:  cfg.maxSteps,
		maxAlloc:  cfg.maxAlloc,
		locale:    cfg.locale,
	}
	return t, nil
}

// Mode returns the mode the template was parsed with.
func (t *Template) Mode() Mode { return t.mode }

// Variables returns the sorted, de-duplicated data paths the template reads,
// relative to the root of the data. Paths are resolved through #with, #each,
// mustache sections and block params where that is statically possible;
// elements of an iterated value are written with "[]", so
// {{#each order.items as |item|}}{{item.name}}{{/each}} reads "order.items"
// and "order.items[].name". @root.x is reported as x; @index and friends,
// block-param indexes and {% let %} names are not data paths and are not
// reported (the paths their expressions read are). Segments that contain
// '.', '[', ']' or spaces are written as [segment].
func (t *Template) Variables() []string {
	out := make([]string, len(t.vars))
	copy(out, t.vars)
	return out
}

// Execute renders the template with data: an Object (JSON decoded once,
// members in their order), Fields over Objects and maps (Merge builds
// one), or the result of json.Unmarshal into an any (map[string]any,
// []any, string, float64, bool, nil, or json.Number with
// Decoder.UseNumber), whose objects #each iterates in sorted key order. The output is written to w in
// a single Write; on error nothing is written and the error is an
// *ExecError, or the error from w. Execute does not panic: a failure
// concerns this data only, and the caller can go on with the next.
func (t *Template) Execute(w io.Writer, data any) error {
	st := t.getState()
	if err := st.safeRun(data); err != nil {
		return err
	}
	_, err := w.Write(st.buf)
	t.putState(st)
	return err
}

// safeRun is run with a recover. A state that panicked is not pooled again,
// since it may be half updated.
func (st *state) safeRun(data any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = st.fail(st.at, "", ErrPanic)
		}
	}()
	if err := st.run(data); err != nil {
		st.t.putState(st)
		return err
	}
	return nil
}

// Render is Execute into a string, for tests and small messages.
func (t *Template) Render(data any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// position converts a byte offset in src into a 1-based line and rune column.
func position(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	line = 1 + strings.Count(src[:off], "\n")
	start := strings.LastIndexByte(src[:off], '\n') + 1
	col = 1 + len([]rune(src[start:off]))
	return line, col
}
