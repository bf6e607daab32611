package delivery

import (
	"bytes"
	"fmt"
	"html"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/cldr"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/push"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/sms"
)

// ProofPrefix starts the subject (email), title (push) or body (SMS) of a
// proof, so nobody mistakes it for the real message.
const ProofPrefix = "[Proof] "

// Templates are a campaign version's content for its channel, parsed once.
// Dispatch and preview render through the same Templates, so a preview
// is exactly what would be sent.
type Templates struct {
	channel campaign.Channel
	email   emailTemplates
	smsBody *render.Template
	push    pushTemplates
	// prefix names the fields of this content in errors: "content." for
	// the default, "content.variants.fr-CA." for a variant.
	prefix string
	// variant is the locale tag of a variant, campaign.DefaultVariant for
	// the default content of content with variants, "" without.
	variant string
	// variants are the default content's locale variants, by tag (sorted),
	// each parsed as the default is; a variant has none.
	variants []*Templates
	tags     []string
	// treatment names the experiment's treatment this content is (with
	// its variants); "" for content without experiment.
	treatment string
	// experiment and treatments are the default content's experiment
	// and each treatment's content, in the experiment's order; a
	// treatment has none.
	experiment *campaign.Experiment
	treatments []*Templates
}

type emailTemplates struct {
	subject, preheader, html, text *render.Template
}

type pushTemplates struct {
	title, body, imageURL, deepLink *render.Template
	data                            map[string]*render.Template
	sound                           string
	badge                           *int
	silent                          bool
}

// ContentError is a template that does not parse, with its field path
// ("content.email.subject") and the engine's line:column message.
type ContentError struct {
	Field string
	Err   error
}

func (e *ContentError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *ContentError) Unwrap() error { return e.Err }

// LogCode names the field for logs; the engine's error (Err) names its
// position.
func (e *ContentError) LogCode() string { return e.Field }

type source struct {
	field string
	src   string
	mode  render.Mode
	dst   **render.Template
}

func parseAll(srcs []source, opts ...render.Option) error {
	for _, s := range srcs {
		if s.src == "" {
			continue
		}
		t, err := render.Parse(s.src, s.mode, opts...)
		if err != nil {
			return &ContentError{Field: s.field, Err: err}
		}
		*s.dst = t
	}
	return nil
}

// ParseContent parses the content of channel ch, and each of its locale
// variants. Email HTML is parsed in HTML mode (values escaped); every
// other field is text. It returns a *ContentError for the first template
// that does not parse, and an error when the channel's content (the
// default's or a variant's) is missing.
//
// An experiment's treatments are parsed likewise, each with its own
// variants, named under campaign.TreatmentPath; the control (a treatment
// without content) is the default content under the control's name.
func ParseContent(ch campaign.Channel, c campaign.Content) (*Templates, error) {
	t, err := parseVariants(ch, c, "content")
	if err != nil {
		return nil, err
	}
	if x := c.Experiment; x != nil {
		t.experiment = x
		for _, tr := range x.Treatments {
			var tt *Templates
			if tr.Control() {
				tt = t.as(tr.Name)
			} else if tt, err = parseVariants(ch, tr.Content(campaign.Content{}), campaign.TreatmentPath(tr.Name)); err != nil {
				return nil, err
			}
			tt.treatment = tr.Name
			for _, v := range tt.variants {
				v.treatment = tr.Name
			}
			t.treatments = append(t.treatments, tt)
		}
	}
	return t, nil
}

// parseVariants parses one content (the default or a treatment's, at
// path) and its locale variants.
func parseVariants(ch campaign.Channel, c campaign.Content, path string) (*Templates, error) {
	def := ""
	if len(c.Variants) > 0 {
		def = campaign.DefaultVariant
	}
	t, err := parseBlocks(ch, c, path+".", def)
	if err != nil {
		return nil, err
	}
	t.tags = c.Locales()
	for _, tag := range t.tags {
		v, err := parseBlocks(ch, c.Variants[tag].Content(), path+".variants."+tag+".", tag)
		if err != nil {
			return nil, err
		}
		t.variants = append(t.variants, v)
	}
	return t, nil
}

// as returns a copy of the default content t and its variants that says
// it is treatment name (the control): the parsed templates are shared.
func (t *Templates) as(name string) *Templates {
	c := *t
	c.experiment, c.treatments = nil, nil
	c.variants = make([]*Templates, len(t.variants))
	for i, v := range t.variants {
		vc := *v
		c.variants[i] = &vc
	}
	return &c
}

// Locales returns the tags of the content's locale variants, sorted.
func (t *Templates) Locales() []string { return t.tags }

// Experiment returns the content's experiment, nil without one.
func (t *Templates) Experiment() *campaign.Experiment { return t.experiment }

// Treatment names the experiment's treatment the content is; "" for
// content without experiment (and the default content of one).
func (t *Templates) Treatment() string { return t.treatment }

// TreatmentNamed returns the content of the experiment's treatment name
// (with its variants), or nil if there is none so named.
func (t *Templates) TreatmentNamed(name string) *Templates {
	for _, tt := range t.treatments {
		if tt.treatment == name {
			return tt
		}
	}
	return nil
}

// Assign returns the content of the treatment the recipient (namespace,
// userID) of campaign campaignID gets (campaign.Experiment.Assign), or
// nil for the holdout; content without experiment is t for everyone.
func (t *Templates) Assign(campaignID, namespace, userID string) *Templates {
	if t.experiment == nil {
		return t
	}
	return t.TreatmentNamed(t.experiment.Assign(campaignID, namespace, userID))
}

// parseBlocks parses the channel block of one content (the default or a
// variant), whose fields are named under prefix.
func parseBlocks(ch campaign.Channel, c campaign.Content, prefix, variant string) (*Templates, error) {
	t := &Templates{channel: ch, prefix: prefix, variant: variant}
	// A variant's dates and numbers are written in its locale (CLDR, for
	// the locales package cldr holds); the default content's as ever.
	var opts []render.Option
	if variant != "" && variant != campaign.DefaultVariant {
		opts = append(opts, render.WithLocale(cldr.For(variant)))
	}
	switch ch {
	case campaign.Email:
		e := c.Email
		if e == nil {
			return nil, &ContentError{Field: prefix + "email", Err: logsafe.Text("is required for an email campaign")}
		}
		return t, parseAll([]source{
			{prefix + "email.subject", e.Subject, render.Text, &t.email.subject},
			{prefix + "email.preheader", e.Preheader, render.Text, &t.email.preheader},
			{prefix + "email.html", e.HTML, render.HTML, &t.email.html},
			{prefix + "email.text", e.Text, render.Text, &t.email.text},
		}, opts...)
	case campaign.SMS:
		if c.SMS == nil {
			return nil, &ContentError{Field: prefix + "sms", Err: logsafe.Text("is required for an SMS campaign")}
		}
		return t, parseAll([]source{{prefix + "sms.body", c.SMS.Body, render.Text, &t.smsBody}}, opts...)
	case campaign.Push:
		p := c.Push
		if p == nil {
			return nil, &ContentError{Field: prefix + "push", Err: logsafe.Text("is required for a push campaign")}
		}
		t.push.sound, t.push.badge, t.push.silent = p.Sound, p.Badge, p.Silent
		srcs := []source{
			{prefix + "push.title", p.Title, render.Text, &t.push.title},
			{prefix + "push.body", p.Body, render.Text, &t.push.body},
			{prefix + "push.imageUrl", p.ImageURL, render.Text, &t.push.imageURL},
			{prefix + "push.deepLink", p.DeepLink, render.Text, &t.push.deepLink},
		}
		if len(p.Data) > 0 {
			t.push.data = make(map[string]*render.Template, len(p.Data))
			for _, k := range slices.Sorted(maps.Keys(p.Data)) {
				var dst *render.Template
				if err := parseAll([]source{{prefix + "push.data." + k, p.Data[k], render.Text, &dst}}, opts...); err != nil {
					return nil, err
				}
				t.push.data[k] = dst
			}
		}
		return t, parseAll(srcs, opts...)
	}
	return nil, fmt.Errorf("unknown channel %q", ch)
}

// Channel returns the channel the templates render for.
func (t *Templates) Channel() campaign.Channel { return t.channel }

// For returns the content that serves locale (a BCP 47 tag, any case):
// the variant campaign.MatchLocale picks ("fr-CA", else "fr"), else the
// default content t. It does not allocate.
func (t *Templates) For(locale string) *Templates {
	if len(t.variants) == 0 || locale == "" {
		return t
	}
	tag := campaign.MatchLocale(t.tags, locale)
	if tag == "" {
		return t
	}
	i, _ := slices.BinarySearch(t.tags, tag)
	return t.variants[i]
}

// Variant names the content: its locale tag as the campaign writes it,
// or campaign.DefaultVariant; "" for content that has no variants, so
// that what is recorded of a campaign without them stays as it was.
func (t *Templates) Variant() string { return t.variant }

// Contents returns the default content and its variants, in tag order,
// then each treatment with content of its own and its variants.
func (t *Templates) Contents() []*Templates {
	out := append([]*Templates{t}, t.variants...)
	if t.experiment != nil {
		for i, tr := range t.experiment.Treatments {
			if !tr.Control() {
				out = append(out, t.treatments[i])
				out = append(out, t.treatments[i].variants...)
			}
		}
	}
	return out
}

// RenderedEmail is an email's content for one recipient.
type RenderedEmail struct {
	Subject string
	HTML    string
	Text    string
}

// RenderedSMS is an SMS for one recipient, with how it would be sent.
type RenderedSMS struct {
	Body string
	sms.Info
}

// Rendered is a message for one recipient; the field of the templates'
// channel is set.
type Rendered struct {
	Email *RenderedEmail
	SMS   *RenderedSMS
	Push  *push.Message
}

// renderBuffers pools the buffer every field of a message is rendered
// into: the fields are then cut from one string, one allocation.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledRender keeps one large message from pinning memory in the pool.
const maxPooledRender = 256 << 10

// Render renders the message for data ({"profile": …, "context": …}).
// proof prefixes the subject, title or SMS body with ProofPrefix. Header
// fields (subject, push title) never carry a line break. An error names
// the field whose template failed; the message is then empty.
func (t *Templates) Render(data any, proof bool) (Rendered, error) {
	b := renderBuffers.Get().(*bytes.Buffer)
	b.Reset()
	defer func() {
		if b.Cap() <= maxPooledRender {
			renderBuffers.Put(b)
		}
	}()
	// Each field is rendered into b and named by its span there, then
	// read from one copy of b.
	type span struct{ from, to int }
	var err error
	run := func(field string, tm *render.Template) span {
		if err != nil || tm == nil {
			return span{}
		}
		from := b.Len()
		if e := tm.Execute(b, data); e != nil {
			err = &ContentError{Field: t.prefix + field, Err: e}
			return span{}
		}
		return span{from, b.Len()}
	}
	var all string
	text := func(s span) string { return all[s.from:s.to] }
	prefix := ""
	if proof {
		prefix = ProofPrefix
	}
	var r Rendered
	switch t.channel {
	case campaign.Email:
		subject, html := run("email.subject", t.email.subject), run("email.html", t.email.html)
		txt, pre := run("email.text", t.email.text), run("email.preheader", t.email.preheader)
		if err != nil {
			return Rendered{}, err
		}
		all = b.String()
		e := &RenderedEmail{
			Subject: prefix + strings.TrimSpace(address.StripLineBreaks(text(subject))),
			HTML:    text(html),
			Text:    text(txt),
		}
		if pre := strings.TrimSpace(text(pre)); pre != "" && e.HTML != "" {
			e.HTML = insertPreheader(e.HTML, pre)
		}
		r.Email = e
	case campaign.SMS:
		body := run("sms.body", t.smsBody)
		if err != nil {
			return Rendered{}, err
		}
		all = b.String()
		s := prefix + text(body)
		r.SMS = &RenderedSMS{Body: s, Info: sms.Measure(s)}
	case campaign.Push:
		p := t.push
		body, image, link, title := run("push.body", p.body), run("push.imageUrl", p.imageURL),
			run("push.deepLink", p.deepLink), run("push.title", p.title)
		var keys []string
		var spans []span
		if len(p.data) > 0 {
			keys = slices.Sorted(maps.Keys(p.data))
			for _, k := range keys {
				spans = append(spans, run("push.data."+k, p.data[k]))
			}
		}
		if err != nil {
			return Rendered{}, err
		}
		all = b.String()
		m := &push.Message{
			Body: text(body), ImageURL: strings.TrimSpace(text(image)), DeepLink: strings.TrimSpace(text(link)),
			Sound: p.sound, Badge: p.badge, Silent: p.silent,
		}
		if title := strings.TrimSpace(address.StripLineBreaks(text(title))); title != "" || proof {
			m.Title = prefix + title
		}
		if len(keys) > 0 {
			m.Data = make(map[string]string, len(keys))
			for i, k := range keys {
				m.Data[k] = text(spans[i])
			}
		}
		r.Push = m
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

// Variables lists the data paths the content reads, sorted and
// de-duplicated (for request samples and review warnings): this
// content's alone, not its variants' (see Contents).
func (t *Templates) Variables() []string {
	var all []string
	for _, tm := range t.all() {
		all = append(all, tm.Variables()...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// Kinds gives each path of Variables the kind of value the content needs
// there (render.Template.Kinds), the most demanding over every field: a
// request sample with values of these kinds renders.
func (t *Templates) Kinds() map[string]render.Kind {
	out := map[string]render.Kind{}
	for _, tm := range t.all() {
		for p, k := range tm.Kinds() {
			out[p] = max(out[p], k)
		}
	}
	return out
}

// all returns the parsed fields of the content.
func (t *Templates) all() []*render.Template {
	var out []*render.Template
	for _, tm := range []*render.Template{t.email.subject, t.email.preheader, t.email.html, t.email.text, t.smsBody,
		t.push.title, t.push.body, t.push.imageURL, t.push.deepLink} {
		if tm != nil {
			out = append(out, tm)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t.push.data)) {
		if tm := t.push.data[k]; tm != nil {
			out = append(out, tm)
		}
	}
	return out
}

// Data builds the rendering data for a recipient: "profile", the stored
// attributes deep-merged with the call's profile (the call wins, for this
// message only), and "context", the call's context (an Object or a map;
// none is an empty object). No map is built: the root is render.Fields and
// the merge, when both sides have members, one render.Object.
func Data(stored map[string]any, override render.Object, context any) any {
	profile := render.Merge(stored, override)
	if profile == nil || isNilMap(profile) {
		profile = emptyObject
	}
	if context == nil || isNilMap(context) {
		context = emptyObject
	}
	if o, ok := context.(render.Object); ok && o.IsZero() {
		context = emptyObject
	}
	return render.Fields{{Name: "profile", Value: profile}, {Name: "context", Value: context}}
}

// emptyObject stands for absent data: an object, so that it is truthy
// and iterates as none, as the empty map it replaces did. Nothing writes
// to it.
var emptyObject any = map[string]any{}

func isNilMap(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m == nil
}
