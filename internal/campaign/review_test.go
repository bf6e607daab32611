package campaign_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/contextschema"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
)

// senders is a fake campaign.Senders verifying one domain.
type senders struct{ domain string }

func (s senders) CanSendAs(_ context.Context, addr string) (bool, error) {
	if s.domain == "broken" {
		return false, errors.New("SES unavailable")
	}
	return strings.HasSuffix(addr, "@"+s.domain), nil
}

type reviewCase struct {
	name string
	// cfg and in build the configuration and campaign (in's config id is
	// set to the configuration's unless noConfig).
	cfg      campaign.ConfigInput
	in       campaign.CampaignInput
	noConfig bool
	senders  campaign.Senders
	errors   []string // "code field"
	warnings []string
}

func emailCfg(cat campaign.Type) campaign.ConfigInput {
	return campaign.ConfigInput{Name: "mail", Channel: campaign.Email, Category: cat,
		Email: &campaign.EmailSettings{FromName: "Acme", FromAddress: "orders@acme.example"}}
}

func emailCampaign(typ campaign.Type, e campaign.EmailContent) campaign.CampaignInput {
	in := campaign.CampaignInput{Name: "c", Type: typ, Channel: campaign.Email, Content: campaign.Content{Email: &e}}
	if typ == campaign.Marketing {
		in.Audience.AudienceID = "aud-1"
	}
	return in
}

var okEmail = campaign.EmailContent{Subject: "Hello", HTML: "<p>Hi</p>"}

func withVariants(in campaign.CampaignInput, v map[string]campaign.Variant) campaign.CampaignInput {
	in.Content.Variants = v
	return in
}

func withExperiment(in campaign.CampaignInput, ts ...campaign.Treatment) campaign.CampaignInput {
	in.Content.Experiment = &campaign.Experiment{Treatments: ts}
	return in
}

func TestReviewRules(t *testing.T) {
	past, future, later := now.Add(-time.Hour), now.Add(time.Hour), now.Add(2*time.Hour)
	smsCfg := campaign.ConfigInput{Name: "sms", Channel: campaign.SMS, Category: campaign.Transactional, SMS: &campaign.SMSSettings{SenderID: "Acme"}}
	pushCfg := campaign.ConfigInput{Name: "push", Channel: campaign.Push, Category: campaign.Transactional,
		Push: &campaign.PushSettings{Apps: []campaign.PushApp{{AppID: "a", Platform: "GCM", PlatformApplicationARN: "arn:aws:sns:us-east-1:123456789012:app/GCM/a"}}}}
	sms := func(body string) campaign.CampaignInput {
		return campaign.CampaignInput{Name: "s", Type: campaign.Transactional, Channel: campaign.SMS, Content: campaign.Content{SMS: &campaign.SMSContent{Body: body}}}
	}
	pushIn := func(p campaign.PushContent) campaign.CampaignInput {
		return campaign.CampaignInput{Name: "p", Type: campaign.Transactional, Channel: campaign.Push, Content: campaign.Content{Push: &p}}
	}
	withSchedule := func(in campaign.CampaignInput, s campaign.Schedule) campaign.CampaignInput {
		in.Schedule = s
		return in
	}
	withSchema := func(in campaign.CampaignInput, s string) campaign.CampaignInput {
		in.ContextSchema = []byte(s)
		return in
	}
	tests := []reviewCase{
		{name: "a sendable campaign has no errors", cfg: emailCfg(campaign.Transactional), in: emailCampaign(campaign.Transactional, okEmail)},
		{name: "a missing channel configuration is an error", cfg: emailCfg(campaign.Transactional), in: emailCampaign(campaign.Transactional, okEmail),
			noConfig: true, errors: []string{"channel_configuration_missing channelConfigurationId"}},
		{name: "a configuration of another channel is an error", cfg: smsCfg, in: emailCampaign(campaign.Transactional, okEmail),
			errors: []string{"channel_configuration_wrong_channel channelConfigurationId"}},
		{name: "a configuration of another category is an error", cfg: emailCfg(campaign.Marketing), in: emailCampaign(campaign.Transactional, okEmail),
			errors: []string{"channel_configuration_wrong_category channelConfigurationId"}},
		{name: "missing content for the channel is an error", cfg: emailCfg(campaign.Transactional),
			in:     campaign.CampaignInput{Name: "c", Type: campaign.Transactional, Channel: campaign.Email},
			errors: []string{"content_missing content.email"}},
		{name: "a missing subject and body are errors", cfg: emailCfg(campaign.Transactional), in: emailCampaign(campaign.Transactional, campaign.EmailContent{}),
			errors: []string{"content_missing content.email.subject", "content_missing content.email.html"}},
		{name: "template syntax errors carry line and column", cfg: emailCfg(campaign.Transactional),
			in:     emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Hi {{#if x}}", HTML: "<p>\n{{frobnicate a}}</p>"}),
			errors: []string{`template_syntax content.email.subject`, `template_syntax content.email.html`}},
		{name: "a marketing email without any unsubscribe is an error", cfg: emailCfg(campaign.Marketing), in: emailCampaign(campaign.Marketing, okEmail),
			errors: []string{"unsubscribe_missing content.email.html"}},
		{name: "a marketing email with an unsubscribe link passes", cfg: emailCfg(campaign.Marketing),
			in: emailCampaign(campaign.Marketing, campaign.EmailContent{Subject: "Sale", HTML: `<a href="https://x.example/u">Unsubscribe</a>`})},
		{name: "list-unsubscribe alone passes with a warning",
			cfg: campaign.ConfigInput{Name: "m", Channel: campaign.Email, Category: campaign.Marketing,
				Email: &campaign.EmailSettings{FromAddress: "news@acme.example", ListUnsubscribeURL: "https://acme.example/u"}},
			in: emailCampaign(campaign.Marketing, okEmail), warnings: []string{"unsubscribe_link_missing content.email.html"}},
		{name: "a marketing campaign without an audience is an error", cfg: emailCfg(campaign.Marketing),
			in: func() campaign.CampaignInput {
				in := emailCampaign(campaign.Marketing, campaign.EmailContent{Subject: "S", Text: "unsubscribe: reply STOP"})
				in.Audience.AudienceID = ""
				return in
			}(), errors: []string{"audience_missing audience.audienceId"}},
		{name: "a push payload over 4 KB is an error", cfg: pushCfg, in: pushIn(campaign.PushContent{Title: "T", Body: strings.Repeat("b", 3000),
			Data: map[string]string{"a": strings.Repeat("d", 1000), "b": strings.Repeat("d", 500)}}),
			errors: []string{"push_payload_too_large content.push"}},
		{name: "a push without title or body is an error", cfg: pushCfg, in: pushIn(campaign.PushContent{}),
			errors: []string{"content_missing content.push.body"}},
		{name: "an SMS over 10 segments is an error", cfg: smsCfg, in: sms(strings.Repeat("a", 1531)),
			errors: []string{"sms_too_many_segments content.sms.body"}},
		{name: "an SMS of two segments is a warning", cfg: smsCfg, in: sms(strings.Repeat("a", 161)),
			warnings: []string{"sms_multiple_segments content.sms.body"}},
		{name: "a single-segment SMS passes", cfg: smsCfg, in: sms("Your code is {{context.code}}"),
			warnings: []string{"context_unchecked contextSchema"}},
		{name: "a start in the past is an error", cfg: emailCfg(campaign.Transactional),
			in:     withSchedule(emailCampaign(campaign.Transactional, okEmail), campaign.Schedule{Start: &past}),
			errors: []string{"schedule_start_in_past schedule.start"}},
		{name: "an end before the start is an error", cfg: emailCfg(campaign.Transactional),
			in:     withSchedule(emailCampaign(campaign.Transactional, okEmail), campaign.Schedule{Start: &later, End: &future}),
			errors: []string{"schedule_end_before_start schedule.end"}},
		{name: "an end in the past is an error", cfg: emailCfg(campaign.Transactional),
			in:     withSchedule(emailCampaign(campaign.Transactional, okEmail), campaign.Schedule{End: &past}),
			errors: []string{"schedule_end_in_past schedule.end"}},
		{name: "context variables missing from the schema are errors", cfg: emailCfg(campaign.Transactional),
			in: withSchema(emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Order {{context.order.id}}",
				HTML: "{{#each context.items}}{{name}} {{price}}{{/each}} {{context.extra}}"}),
				`{"type":"object","properties":{"order":{"type":"object","properties":{"id":{"type":"string"}}},"items":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}}}}`),
			errors: []string{"context_variable_not_in_schema contextSchema", "context_variable_not_in_schema contextSchema"}},
		{name: "context variables without a schema are a warning", cfg: emailCfg(campaign.Transactional),
			in:       emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Order {{context.orderId}}", Text: "x"}),
			warnings: []string{"context_unchecked contextSchema"}},
		{name: "a From address outside the verified sender domain is an error", cfg: emailCfg(campaign.Transactional),
			in: emailCampaign(campaign.Transactional, okEmail), senders: senders{"other.example"},
			errors: []string{"sender_not_verified channelConfigurationId"}},
		{name: "a From address in the verified sender domain passes", cfg: emailCfg(campaign.Transactional),
			in: emailCampaign(campaign.Transactional, okEmail), senders: senders{"acme.example"}},
		{name: "an unavailable sender check is a warning", cfg: emailCfg(campaign.Transactional),
			in: emailCampaign(campaign.Transactional, okEmail), senders: senders{"broken"},
			warnings: []string{"sender_unchecked channelConfigurationId"}},
		{name: "nested string-multiplying helpers are a warning", cfg: emailCfg(campaign.Transactional),
			in: emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Hi",
				HTML: `<p>{{replace (replace (replace profile.bio "a" "aaaaaaaaaa") "a" "aaaaaaaaaa") "a" "aaaaaaaaaa"}}</p>`}),
			warnings: []string{"template_cost_unbounded content.email.html"}},
		{name: "nested replaces of literals past the output cap are a warning", cfg: smsCfg,
			in:       sms(`{{replace (replace (replace (replace (replace (replace (replace "aaaaaaaaaa" "a" "aaaaaaaaaa") "a" "aaaaaaaaaa") "a" "aaaaaaaaaa") "a" "aaaaaaaaaa") "a" "aaaaaaaaaa") "a" "aaaaaaaaaa") "a" "aaaaaaaaaa"}}`),
			warnings: []string{"template_cost_unbounded content.sms.body"}},
		{name: "a string helper in loops over unrelated data is a warning", cfg: pushCfg,
			in:       pushIn(campaign.PushContent{Title: "T", Body: "{{#each profile.a}}{{#each @root.profile.b}}{{#if (eq (upper this) \"X\")}}x{{/if}}{{/each}}{{/each}}"}),
			warnings: []string{"template_cost_unbounded content.push.body"}},
		{name: "helpers in loops over nested data are no warning", cfg: emailCfg(campaign.Transactional),
			in: emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Hi",
				HTML: `{{#each profile.orders}}{{#each items}}{{upper name}} {{formatNumber price 2 grouping=","}}{{/each}}{{/each}}`})},
		{name: "a high-throughput campaign's content may not read the profile", cfg: emailCfg(campaign.Transactional),
			in: func() campaign.CampaignInput {
				in := emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Order {{context.orderId}}",
					HTML: "<p>Hi {{profile.person.firstName}}</p>", Text: "{{context.orderId}}"})
				in.HighThroughput = true
				return in
			}(),
			errors:   []string{"profile_variable_in_high_throughput content.email.html"},
			warnings: []string{"context_unchecked contextSchema"}},
		{name: "a high-throughput campaign reading only its context passes", cfg: emailCfg(campaign.Transactional),
			in: func() campaign.CampaignInput {
				in := emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Order {{context.orderId}}", HTML: "<p>{{context.name}}</p>"})
				in.HighThroughput = true
				return in
			}(),
			warnings: []string{"context_unchecked contextSchema"}},
		{name: "content with well-formed locale variants has no errors", cfg: emailCfg(campaign.Transactional),
			in: withVariants(emailCampaign(campaign.Transactional, okEmail), map[string]campaign.Variant{
				"fr":    {Email: &campaign.EmailContent{Subject: "Bonjour", HTML: "<p>Salut</p>"}},
				"fr-CA": {Email: &campaign.EmailContent{Subject: "Allô", Text: "Salut"}}})},
		{name: "a variant's syntax errors name the variant", cfg: emailCfg(campaign.Transactional),
			in: withVariants(emailCampaign(campaign.Transactional, okEmail), map[string]campaign.Variant{
				"fr": {Email: &campaign.EmailContent{Subject: "Bonjour {{#if x}}", HTML: "<p>Salut</p>"}}}),
			errors: []string{"template_syntax content.variants.fr.email.subject"}},
		{name: "a variant's missing fields name the variant", cfg: emailCfg(campaign.Transactional),
			in: withVariants(emailCampaign(campaign.Transactional, okEmail), map[string]campaign.Variant{
				"de": {}, "fr": {Email: &campaign.EmailContent{Preheader: "p"}}}),
			errors: []string{"content_missing content.variants.de.email", "content_missing content.variants.fr.email.subject",
				"content_missing content.variants.fr.email.html"}},
		{name: "a marketing variant without an unsubscribe link is an error of that variant", cfg: emailCfg(campaign.Marketing),
			in: withVariants(emailCampaign(campaign.Marketing, campaign.EmailContent{Subject: "Sale", HTML: `<a href="https://x.example/u">Unsubscribe</a>`}),
				map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: "Soldes", HTML: "<p>Soldes</p>"}}}),
			errors: []string{"unsubscribe_missing content.variants.fr.email.html"}},
		{name: "an SMS variant's segments are counted", cfg: smsCfg,
			in: withVariants(sms("Code"), map[string]campaign.Variant{
				"fr": {SMS: &campaign.SMSContent{Body: strings.Repeat("é", 1531)}}, "es": {SMS: &campaign.SMSContent{Body: strings.Repeat("a", 161)}}}),
			errors:   []string{"sms_too_many_segments content.variants.fr.sms.body"},
			warnings: []string{"sms_multiple_segments content.variants.es.sms.body"}},
		{name: "a push variant's payload size is checked", cfg: pushCfg,
			in: withVariants(pushIn(campaign.PushContent{Title: "T", Body: "B"}), map[string]campaign.Variant{
				"de": {Push: &campaign.PushContent{Title: "T", Body: strings.Repeat("b", 4000)}}}),
			errors: []string{"push_payload_too_large content.variants.de.push"}},
		{name: "a variant's context variables are checked against the schema", cfg: emailCfg(campaign.Transactional),
			in: withSchema(withVariants(emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Order {{context.id}}", Text: "x"}),
				map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: "Commande {{context.id}}", Text: "{{context.extra}}"}}}),
				`{"type":"object","properties":{"id":{"type":"string"}}}`),
			errors:   []string{"context_variable_not_in_schema contextSchema"},
			warnings: []string{"variant_variable_mismatch content.variants.fr"}},
		{name: "a variable some contents do not read is a warning on each content that reads it", cfg: emailCfg(campaign.Transactional),
			in: withVariants(emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Hi {{profile.firstName}}", Text: "x"}),
				map[string]campaign.Variant{
					"de": {Email: &campaign.EmailContent{Subject: "Hallo", Text: "x"}},
					"fr": {Email: &campaign.EmailContent{Subject: "Salut {{profile.firstName}}", Text: "x"}}}),
			warnings: []string{"variant_variable_mismatch content", "variant_variable_mismatch content.variants.fr"}},
		{name: "an experiment's treatments are checked as the default content is, each named by its path", cfg: smsCfg,
			in: withExperiment(withSchema(sms("Code {{context.code}}"), `{"type":"object","properties":{"code":{"type":"string"}}}`),
				campaign.Treatment{Name: "control", Percent: 40},
				campaign.Treatment{Name: "long", Percent: 30, SMS: &campaign.SMSContent{Body: strings.Repeat("é", 1531)}},
				campaign.Treatment{Name: "broken", Percent: 20, SMS: &campaign.SMSContent{Body: "Code {{#if x}} {{context.other}}"},
					Variants: map[string]campaign.Variant{"fr": {SMS: &campaign.SMSContent{Body: "{{context.undeclared}} " + strings.Repeat("a", 161)}}}}),
			errors: []string{"sms_too_many_segments content.experiment.treatments.long.sms.body",
				"template_syntax content.experiment.treatments.broken.sms.body",
				"context_variable_not_in_schema contextSchema"},
			warnings: []string{"sms_multiple_segments content.experiment.treatments.broken.variants.fr.sms.body",
				"variant_variable_mismatch content.experiment.treatments.broken.variants.fr"}},
		{name: "a push treatment's payload size and a marketing treatment's unsubscribe link are checked", cfg: pushCfg,
			in: withExperiment(pushIn(campaign.PushContent{Title: "T", Body: "B"}),
				campaign.Treatment{Name: "B", Percent: 50, Push: &campaign.PushContent{Title: "T", Body: strings.Repeat("b", 4000)}},
				campaign.Treatment{Name: "C", Percent: 50, Push: &campaign.PushContent{}}),
			errors: []string{"push_payload_too_large content.experiment.treatments.B.push", "content_missing content.experiment.treatments.C.push.body"}},
		{name: "a marketing email treatment without an unsubscribe link is an error of that treatment", cfg: emailCfg(campaign.Marketing),
			in: withExperiment(emailCampaign(campaign.Marketing, campaign.EmailContent{Subject: "Sale", HTML: `<a href="https://x.example/u">Unsubscribe</a>`}),
				campaign.Treatment{Name: "control", Percent: 50},
				campaign.Treatment{Name: "B", Percent: 40, Email: &campaign.EmailContent{Subject: "Soldes", HTML: "<p>Soldes</p>"}}),
			errors: []string{"unsubscribe_missing content.experiment.treatments.B.email.html"}},
		{name: "a delivery rate on a transactional campaign is a warning", cfg: emailCfg(campaign.Transactional),
			in:       withSchedule(emailCampaign(campaign.Transactional, okEmail), campaign.Schedule{DeliveryRate: 10}),
			warnings: []string{"schedule_delivery_rate_ignored schedule.deliveryRate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := memory.New()
			svc := newService(store)
			svc.Senders = tt.senders
			cfg, err := svc.CreateConfig(ctx, acme, tt.cfg)
			if err != nil {
				t.Fatalf("CreateConfig: %v", err)
			}
			if !tt.noConfig {
				tt.in.ChannelConfigID = cfg.ID
			}
			c, err := svc.CreateCampaign(ctx, acme, tt.in)
			if err != nil {
				t.Fatalf("CreateCampaign: %v", err)
			}
			r, err := svc.Review(ctx, acme, c.ID)
			if err != nil {
				t.Fatalf("Review: %v", err)
			}
			codes := func(fs []derrors.FieldError) []string {
				var out []string
				for _, f := range fs {
					out = append(out, f.Code+" "+f.Field)
				}
				return out
			}
			if diff := cmp.Diff(tt.errors, codes(r.Errors)); diff != "" {
				t.Errorf("errors (-want +got):\n%s\n%+v", diff, r.Errors)
			}
			if diff := cmp.Diff(tt.warnings, codes(r.Warnings)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s\n%+v", diff, r.Warnings)
			}
			// Review changes nothing; activation refuses exactly when
			// there are errors, with the same list.
			after, _ := store.GetCampaign(ctx, acme, c.ID)
			if after.Revision != c.Revision {
				t.Errorf("review changed the campaign")
			}
			_, err = svc.Activate(ctx, acme, c.ID)
			var de *derrors.Error
			switch {
			case len(tt.errors) == 0 && err != nil:
				t.Errorf("Activate of a campaign without review errors: %v", err)
			case len(tt.errors) > 0 && (!errors.As(err, &de) || de.Kind != derrors.Unprocessable):
				t.Errorf("Activate with review errors = %v, want 422", err)
			case len(tt.errors) > 0 && !cmp.Equal(de.Fields, r.Errors):
				t.Errorf("Activate's 422 lists %v, review %v", de.Fields, r.Errors)
			}
		})
	}
}

func TestReviewReportsTheEnginePosition(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	svc := newService(store)
	cfg, _ := svc.CreateConfig(ctx, acme, emailCfg(campaign.Transactional))
	in := emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "ok", HTML: "<p>\n  {{frobnicate a}}</p>"})
	in.ChannelConfigID = cfg.ID
	c, _ := svc.CreateCampaign(ctx, acme, in)
	r, _ := svc.Review(ctx, acme, c.ID)
	if len(r.Errors) != 1 || !strings.HasPrefix(r.Errors[0].Message, "line 2, col 5:") {
		t.Errorf("review errors = %+v, want the engine's line 2, col 5 message", r.Errors)
	}
}

func TestReviewNamesWhereTheCostIsUnbounded(t *testing.T) {
	ctx := context.Background()
	svc := newService(memory.New())
	cfg, _ := svc.CreateConfig(ctx, acme, emailCfg(campaign.Transactional))
	in := emailCampaign(campaign.Transactional, campaign.EmailContent{Subject: "Hi",
		HTML: "<p>\n  {{replace profile.bio \"a\" profile.r}}{{join profile.tags profile.sep}}</p>"})
	in.ChannelConfigID = cfg.ID
	c, _ := svc.CreateCampaign(ctx, acme, in)
	r, err := svc.Review(ctx, acme, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := `line 2, col 5: helper "replace" may build a string as large as the product of two data values (and 1 more); ` +
		`its cost grows faster than the data it reads, so a recipient whose data is large fails to render (render_error: over 1048576 bytes of output or 4194304 bytes built) instead of receiving the message`
	if len(r.Warnings) != 1 || r.Warnings[0].Message != want {
		t.Errorf("review warnings = %+v\nwant one with message %s", r.Warnings, want)
	}
}

func TestALiveCampaignKeepsItsPastStart(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	clock := now
	svc := &campaign.Service{Schemas: contextschema.Compiler{}, Store: store, Now: func() time.Time { return clock }}
	cfg, _ := svc.CreateConfig(ctx, acme, emailCfg(campaign.Transactional))
	start := now.Add(time.Minute)
	in := emailCampaign(campaign.Transactional, okEmail)
	in.ChannelConfigID, in.Schedule.Start = cfg.ID, &start
	c, _ := svc.CreateCampaign(ctx, acme, in)
	if _, err := svc.Activate(ctx, acme, c.ID); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(time.Hour) // the start has passed
	if _, err := svc.UpdateCampaign(ctx, acme, c.ID, campaignPatch(t, `{"content":{"email":{"subject":"v2"}}}`), 0); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Activate(ctx, acme, c.ID); err != nil || got.Status != campaign.StatusLive || got.LiveVersion != 2 {
		t.Errorf("re-activation with the unchanged, past start = %v, %v; want live v2", got.Status, err)
	}
}
