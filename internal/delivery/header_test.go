package delivery_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/address"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/render"
)

// Context values reach header fields through templates; whatever they
// hold, a rendered subject or push title carries no control character.
func TestRenderedHeaderFieldsCarryNoControlCharacters(t *testing.T) {
	values := []struct{ name, v string }{
		{"CRLF", "a\r\nBcc: x@example.com"},
		{"NEL", "a\u0085Bcc: x@example.com"},
		{"LINE SEPARATOR", "a\u2028Bcc: x@example.com"},
		{"PARAGRAPH SEPARATOR", "a\u2029b"},
		{"VT and FF", "a\vb\fc"},
		{"NUL", "a\x00b"},
		{"ESC and DEL", "a\x1b[31m\x7fb"},
	}
	for _, ch := range []campaign.Channel{campaign.Email, campaign.Push} {
		for _, v := range values {
			t.Run("a "+string(ch)+" header field drops "+v.name, func(t *testing.T) {
				c := campaign.Content{}
				if ch == campaign.Email {
					c.Email = &campaign.EmailContent{Subject: "Hi {{context.v}}", HTML: "<p>x</p>"}
				} else {
					c.Push = &campaign.PushContent{Title: "Hi {{context.v}}", Body: "x"}
				}
				tm, err := delivery.ParseContent(ch, c)
				if err != nil {
					t.Fatal(err)
				}
				r, err := tm.Render(delivery.Data(nil, render.Object{}, map[string]any{"v": v.v}), false)
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				if r.Email != nil {
					got = r.Email.Subject
				} else {
					got = r.Push.Title
				}
				if address.HasControl(got) {
					t.Errorf("rendered header field = %q, want no control characters", got)
				}
			})
		}
	}
}
