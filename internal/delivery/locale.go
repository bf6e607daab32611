package delivery

import (
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/profile"
)

// LocaleAttribute is the member of a trigger call's profile that names the
// recipient's locale for this message, as the stored profile's locale
// does ({"profile": {"locale": "fr-CA"}}).
const LocaleAttribute = "locale"

// RecipientLocale is the locale whose content variant a recipient gets:
// the recipient's Locale (a proof's), else the call's profile "locale" (a
// string, as written), else the stored profile's locale, else the channel
// configuration's default locale, else none (""): the default content.
// Each is taken as it is; Templates.For falls back from "fr-CA" to "fr"
// to the default content.
func RecipientLocale(r Recipient, p profile.Profile, cfg campaign.ChannelConfig) string {
	if r.Locale != "" {
		return r.Locale
	}
	if l, ok := r.Profile.String(LocaleAttribute); ok && l != "" {
		return l
	}
	if p.Locale != "" {
		return p.Locale
	}
	return cfg.DefaultLocale()
}

// contentFor returns the templates that serve the recipient (see
// RecipientLocale).
func (cv *compiled) contentFor(r Recipient, p profile.Profile, cfg campaign.ChannelConfig) *Templates {
	return cv.content.For(RecipientLocale(r, p, cfg))
}
