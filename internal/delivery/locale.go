package delivery

import (
	"strings"

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

// contentFor returns the templates that serve the recipient of job: the
// content of their treatment (see treatmentFor), in the variant of their
// locale (see RecipientLocale); nil for the holdout.
func (cv *compiled) contentFor(job Job, r Recipient, p profile.Profile, cfg campaign.ChannelConfig) *Templates {
	t := cv.treatmentFor(job, r)
	if t == nil {
		return nil
	}
	return t.For(RecipientLocale(r, p, cfg))
}

// treatmentFor returns the content of the recipient's treatment of the
// campaign's content experiment: the treatment campaign.Experiment.Assign
// gives the campaign and the recipient's identity, nil for the holdout.
// A proof sends the treatment it names, else the default content: it is
// never held out. Content without experiment is the same for everyone.
func (cv *compiled) treatmentFor(job Job, r Recipient) *Templates {
	t := cv.content
	if t.Experiment() == nil {
		return t
	}
	if job.Proof {
		if tt := t.TreatmentNamed(r.Treatment); tt != nil {
			return tt
		}
		return t
	}
	return t.Assign(job.CampaignID, r.Namespace, r.UserID)
}

// Label names what a recipient's counts are kept under in the per-variant
// report counters: "<treatment>/<locale variant>", either part empty when
// the content has no experiment or no locale variants; "" when it has
// neither (nothing is counted per variant). Treatment names and locale
// tags hold no '/'.
func Label(treatment, variant string) string {
	if treatment == "" && variant == "" {
		return ""
	}
	return treatment + "/" + variant
}

// ParseLabel splits a Label into its treatment and locale variant.
func ParseLabel(label string) (treatment, variant string) {
	treatment, variant, _ = strings.Cut(label, "/")
	return treatment, variant
}

// variantPrefix starts the name of a count kept per variant.
const variantPrefix = "v:"

// VariantCount is the name outcome or feedback counter name is counted
// under for the variant label: "v:<label>#<name>", beside the count of
// name itself (execution counters, campaign counters, feedback counters).
func VariantCount(label, name string) string { return variantPrefix + label + "#" + name }

// ParseVariantCount splits a VariantCount name into its label and the
// name counted; ok is false for any other name.
func ParseVariantCount(s string) (label, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, variantPrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "#")
}

// CountedValue is how a counter item keeps a recipient's outcome and its
// variant label: "<outcome>" alone, or "<outcome>|<label>" (a label holds
// no '|'). SplitCounted reverses it.
func CountedValue(o Outcome, label string) string {
	if label == "" {
		return string(o)
	}
	return string(o) + "|" + label
}

// SplitCounted is the outcome and label of a CountedValue.
func SplitCounted(v string) (Outcome, string) {
	i := strings.LastIndexByte(v, '|')
	if i < 0 {
		return Outcome(v), ""
	}
	return Outcome(v[:i]), v[i+1:]
}
