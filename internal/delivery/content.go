package delivery

import (
	"fmt"
	"html"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/render"
)

// EmailTemplates is an email content's templates, parsed once per
// campaign version.
type EmailTemplates struct {
	subject, preheader, html, text *render.Template
}

// ParseEmail parses every field of c. The HTML body is parsed in HTML mode
// (values are escaped); subject, preheader and text are not escaped.
func ParseEmail(c *campaign.EmailContent) (*EmailTemplates, error) {
	if c == nil {
		return nil, fmt.Errorf("the version has no email content")
	}
	var t EmailTemplates
	for _, f := range []struct {
		name string
		src  string
		mode render.Mode
		dst  **render.Template
	}{
		{"subject", c.Subject, render.Text, &t.subject},
		{"preheader", c.Preheader, render.Text, &t.preheader},
		{"html", c.HTML, render.HTML, &t.html},
		{"text", c.Text, render.Text, &t.text},
	} {
		if f.src == "" {
			continue
		}
		tmpl, err := render.Parse(f.src, f.mode)
		if err != nil {
			return nil, fmt.Errorf("content.email.%s: %w", f.name, err)
		}
		*f.dst = tmpl
	}
	return &t, nil
}

// RenderedEmail is an email's content for one recipient.
type RenderedEmail struct {
	Subject string
	HTML    string
	Text    string
}

var builders = sync.Pool{New: func() any { return new(strings.Builder) }}

func execute(t *render.Template, data any) (string, error) {
	if t == nil {
		return "", nil
	}
	b := builders.Get().(*strings.Builder)
	defer func() { b.Reset(); builders.Put(b) }()
	if err := t.Execute(b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Render renders the email for data ({"profile": …, "context": …}). The
// subject never carries a line break. A preheader goes into the HTML as
// the hidden first text of the body, where mail clients read it.
func (t *EmailTemplates) Render(data any) (RenderedEmail, error) {
	var r RenderedEmail
	var err error
	if r.Subject, err = execute(t.subject, data); err != nil {
		return r, fmt.Errorf("subject: %w", err)
	}
	r.Subject = strings.TrimSpace(address.StripLineBreaks(r.Subject))
	pre, err := execute(t.preheader, data)
	if err != nil {
		return r, fmt.Errorf("preheader: %w", err)
	}
	if r.HTML, err = execute(t.html, data); err != nil {
		return r, fmt.Errorf("html: %w", err)
	}
	if r.Text, err = execute(t.text, data); err != nil {
		return r, fmt.Errorf("text: %w", err)
	}
	if pre = strings.TrimSpace(pre); pre != "" && r.HTML != "" {
		r.HTML = insertPreheader(r.HTML, pre)
	}
	return r, nil
}

func insertPreheader(body, pre string) string {
	div := `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">` + html.EscapeString(pre) + `</div>`
	lower := strings.ToLower(body)
	if i := strings.Index(lower, "<body"); i >= 0 {
		if j := strings.IndexByte(body[i:], '>'); j >= 0 {
			at := i + j + 1
			return body[:at] + div + body[at:]
		}
	}
	return div + body
}

// Data builds the rendering data for a recipient: the stored attributes
// deep-merged with the call's profile (the call wins, for this message
// only) and the call's context.
func Data(stored, override, context map[string]any) map[string]any {
	return map[string]any{"profile": merge(stored, override), "context": orEmpty(context)}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// merge returns base with over laid on top, recursing into objects present
// in both, without modifying either.
func merge(base, over map[string]any) map[string]any {
	if len(over) == 0 {
		return orEmpty(base)
	}
	if len(base) == 0 {
		return over
	}
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if om, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = merge(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}
