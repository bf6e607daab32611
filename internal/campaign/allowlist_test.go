package campaign_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
)

func TestAllowsSender(t *testing.T) {
	tests := []struct {
		name     string
		identity string
		from     string
		want     bool
	}{
		{"an address of the domain is allowed", "herald.example", "news@herald.example", true},
		{"an address of a subdomain is allowed", "herald.example", "news@mail.herald.example", true},
		{"an address of a deeper subdomain is allowed", "herald.example", "news@a.b.herald.example", true},
		{"domains compare without regard to case", "Herald.Example", "News@MAIL.herald.EXAMPLE", true},
		{"spaces around the setting are ignored", " herald.example\n", "news@herald.example", true},
		{"a domain that only ends with the same letters is not a subdomain", "herald.example", "news@evilherald.example", false},
		{"a parent domain is not allowed", "mail.herald.example", "news@herald.example", false},
		{"the identity as a local part is not its domain", "herald.example", "herald.example@evil.example", false},
		{"another domain is not allowed", "herald.example", "news@evil.example", false},
		{"the domain followed by more is not allowed", "herald.example", "news@herald.example.evil", false},
		{"an address identity allows that address", "orders@herald.example", "orders@herald.example", true},
		{"an address identity compares without regard to case", "Orders@Herald.example", "orders@HERALD.example", true},
		{"an address identity allows no other address of its domain", "orders@herald.example", "news@herald.example", false},
		{"an address identity allows no subdomain", "orders@herald.example", "orders@mail.herald.example", false},
		{"no identity allows nothing", "", "news@herald.example", false},
		{"a blank identity allows nothing", "  ", "news@herald.example", false},
		{"something that is not an address is not allowed", "herald.example", "herald.example", false},
		{"an empty From is not allowed", "herald.example", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := campaign.Allowlist{SenderIdentity: tt.identity}
			if got := a.AllowsSender(tt.from); got != tt.want {
				t.Errorf("Allowlist{SenderIdentity: %q}.AllowsSender(%q) = %t, want %t", tt.identity, tt.from, got, tt.want)
			}
		})
	}
}

func TestAllowsApplication(t *testing.T) {
	const (
		app   = "arn:aws:sns:us-east-1:123456789012:app/GCM/herald-android"
		named = "arn:aws:sns:us-east-1:123456789012:app/*/herald-*"
	)
	tests := []struct {
		name    string
		pattern string
		arn     string
		want    bool
	}{
		{"the exact ARN is allowed", app, app, true},
		{"a name pattern allows a matching application of any platform", named, "arn:aws:sns:us-east-1:123456789012:app/APNS/herald-ios", true},
		{"a name pattern allows the bare prefix ('*' matches nothing too)", named, "arn:aws:sns:us-east-1:123456789012:app/GCM/herald-", true},
		{"a name pattern refuses another name", named, "arn:aws:sns:us-east-1:123456789012:app/GCM/shop-android", false},
		{"a name pattern refuses the same name in another account", named, "arn:aws:sns:us-east-1:999999999999:app/GCM/herald-android", false},
		{"a name pattern refuses the same name in another region", named, "arn:aws:sns:eu-west-1:123456789012:app/GCM/herald-android", false},
		{"a pattern is not a prefix: more after the name is refused", app, app + "-2", false},
		{"a pattern is not a suffix: more before it is refused", app, "x" + app, false},
		{"'?' matches exactly one character", "arn:aws:sns:us-east-1:123456789012:app/GCM/herald-?", "arn:aws:sns:us-east-1:123456789012:app/GCM/herald-1", true},
		{"'?' does not match none", "arn:aws:sns:us-east-1:123456789012:app/GCM/herald-?", "arn:aws:sns:us-east-1:123456789012:app/GCM/herald-", false},
		{"'?' does not match two", "arn:aws:sns:us-east-1:123456789012:app/GCM/herald-?", "arn:aws:sns:us-east-1:123456789012:app/GCM/herald-12", false},
		{"'*' matches across slashes, as in IAM", "arn:aws:sns:us-east-1:123456789012:app/*", app, true},
		{"a '*' in the ARN is matched by the wildcard, not taken for one", "arn:*/x-*-y", "arn:*/x-*-q-*-y", true},
		{"a '*' in the ARN matches only itself as a literal", "arn:a*", "arn:b", false},
		{"several wildcards backtrack", "*:app/*/*-android", app, true},
		{"several wildcards refuse what none can match", "*:app/*/*-ios", app, false},
		{"matching is case-sensitive, as ARNs are", named, "arn:aws:sns:us-east-1:123456789012:app/GCM/Herald-android", false},
		{"'*' alone allows any application", "*", app, true},
		{"no pattern allows nothing", "", app, false},
		{"no ARN is never allowed", "*", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := campaign.Allowlist{PushApplications: tt.pattern}
			if got := a.AllowsApplication(tt.arn); got != tt.want {
				t.Errorf("Allowlist{PushApplications: %q}.AllowsApplication(%q) = %t, want %t", tt.pattern, tt.arn, got, tt.want)
			}
		})
	}
}

// acmeAllowed is a deployment allowing acme.example and the acme-*
// platform applications of its account and region.
var acmeAllowed = &campaign.Allowlist{SenderIdentity: "acme.example", PushApplications: "arn:aws:sns:us-east-1:123456789012:app/*/acme-*"}

const (
	acmeIOS   = "arn:aws:sns:us-east-1:123456789012:app/APNS/acme-ios"
	otherIOS  = "arn:aws:sns:us-east-1:123456789012:app/APNS/globex-ios"
	otherAcct = "arn:aws:sns:us-east-1:999999999999:app/GCM/acme-android"
)

// configFrom is validConfig sending as from.
func configFrom(from string) campaign.ConfigInput {
	c := validConfig()
	c.Email.FromAddress = from
	return c
}

func pushConfig(arns ...string) campaign.ConfigInput {
	in := campaign.ConfigInput{Name: "app", Channel: campaign.Push, Category: campaign.Transactional, Push: &campaign.PushSettings{}}
	for i, arn := range arns {
		platform := strings.Split(arn, "/")[1]
		in.Push.Apps = append(in.Push.Apps, campaign.PushApp{AppID: fmt.Sprintf("app-%d", i), Platform: platform, PlatformApplicationARN: arn})
	}
	return in
}

func TestConfigurationsOutsideTheAllowlistAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		allowed *campaign.Allowlist
		in      campaign.ConfigInput
		fields  []string
		message string // in the first field's message
	}{
		{name: "a From address of the identity is accepted", allowed: acmeAllowed, in: validConfig()},
		{name: "a From address of a subdomain of the identity is accepted", allowed: acmeAllowed,
			in: configFrom("news@mail.acme.example")},
		{name: "a From address of another domain is refused", allowed: acmeAllowed,
			in:     configFrom("orders@globex.example"),
			fields: []string{"email.fromAddress"}, message: "must be an address of acme.example or of one of its subdomains"},
		{name: "an address identity allows only itself", allowed: &campaign.Allowlist{SenderIdentity: "news@acme.example"}, in: validConfig(),
			fields: []string{"email.fromAddress"}, message: "must be news@acme.example, the only address"},
		{name: "without a sender identity no From address is accepted", allowed: &campaign.Allowlist{}, in: validConfig(),
			fields: []string{"email.fromAddress"}, message: "this deployment has no sender identity (the SenderIdentity parameter)"},
		{name: "a malformed From address is reported as such, not as outside the identity", allowed: acmeAllowed,
			in:     configFrom("nope"),
			fields: []string{"email.fromAddress"}, message: "must be an email address"},
		{name: "without an allowlist any From address is accepted", allowed: nil,
			in: configFrom("orders@globex.example")},
		{name: "an allowed platform application is accepted", allowed: acmeAllowed, in: pushConfig(acmeIOS)},
		{name: "each push app outside the allowed applications is named", allowed: acmeAllowed, in: pushConfig(acmeIOS, otherIOS, otherAcct),
			fields:  []string{"push.apps[1].platformApplicationArn", "push.apps[2].platformApplicationArn"},
			message: "it allows arn:aws:sns:us-east-1:123456789012:app/*/acme-* (the PushApplicationNames parameter)"},
		{name: "without allowed applications no push app is accepted", allowed: &campaign.Allowlist{SenderIdentity: "acme.example"}, in: pushConfig(acmeIOS),
			fields: []string{"push.apps[0].platformApplicationArn"}, message: "this deployment allows no platform application"},
		{name: "an ARN of the wrong platform is reported as such first", allowed: acmeAllowed,
			in: func() campaign.ConfigInput {
				c := pushConfig(otherIOS)
				c.Push.Apps[0].Platform = "GCM"
				return c
			}(), fields: []string{"push.apps[0].platformApplicationArn"}, message: "is a APNS application"},
		{name: "an SMS configuration is not concerned", allowed: &campaign.Allowlist{},
			in: campaign.ConfigInput{Name: "otp", Channel: campaign.SMS, Category: campaign.Transactional, SMS: &campaign.SMSSettings{SenderID: "Acme"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New()
			svc := newService(store)
			svc.Allowed = tt.allowed
			_, err := svc.CreateConfig(context.Background(), acme, tt.in)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("CreateConfig: %v", err)
				}
				return
			}
			if diff := cmp.Diff(tt.fields, fieldsOf(t, err, derrors.Invalid)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			var de *derrors.Error
			if errorsAs(err, &de) && !contains(de.Fields[0].Message, tt.message) {
				t.Errorf("message %q, want it to say %q", de.Fields[0].Message, tt.message)
			}
			if _, err := store.GetConfig(context.Background(), acme, "id-1"); !derrors.Is(err, derrors.NotFound) {
				t.Errorf("a refused configuration was stored (GetConfig error = %v)", err)
			}
		})
	}
}

func TestAChangeCannotTakeAConfigurationOutsideTheAllowlist(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		in     campaign.ConfigInput
		patch  string
		fields []string
	}{
		{"a From address of another domain", validConfig(), `{"email":{"fromAddress":"orders@globex.example"}}`, []string{"email.fromAddress"}},
		{"a platform application not allowed", pushConfig(acmeIOS), `{"push":{"apps":[{"appId":"app-0","platform":"APNS","platformApplicationArn":"` + otherIOS + `"}]}}`,
			[]string{"push.apps[0].platformApplicationArn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New()
			svc := newService(store)
			svc.Allowed = acmeAllowed
			cfg, err := svc.CreateConfig(ctx, acme, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.UpdateConfig(ctx, acme, cfg.ID, configPatch(t, tt.patch), 0)
			if diff := cmp.Diff(tt.fields, fieldsOf(t, err, derrors.Invalid)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
			stored, _ := store.GetConfig(ctx, acme, cfg.ID)
			if diff := cmp.Diff(cfg, stored); diff != "" {
				t.Errorf("a refused change was stored (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAConfigurationStoredOutsideTheAllowlistMustBeBroughtInsideToChange(t *testing.T) {
	ctx := context.Background()
	store := memory.New()
	before := newService(store) // the settings it was stored under allowed anything
	in := validConfig()
	in.Email.FromAddress = "orders@globex.example"
	cfg, err := before.CreateConfig(ctx, acme, in)
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(store)
	svc.Allowed = acmeAllowed
	_, err = svc.UpdateConfig(ctx, acme, cfg.ID, configPatch(t, `{"name":"Receipts v2"}`), 0)
	if diff := cmp.Diff([]string{"email.fromAddress"}, fieldsOf(t, err, derrors.Invalid)); diff != "" {
		t.Errorf("renaming it: field errors (-want +got):\n%s", diff)
	}
	got, err := svc.UpdateConfig(ctx, acme, cfg.ID, configPatch(t, `{"name":"Receipts v2","email":{"fromAddress":"orders@acme.example"}}`), 0)
	if err != nil || got.Email.FromAddress != "orders@acme.example" || got.Revision != 2 {
		t.Errorf("bringing it inside = %+v, %v; want revision 2 with the new From address", got, err)
	}
}

func TestReviewRefusesWhatTheDeploymentDoesNotAllow(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		cfg     campaign.ConfigInput
		in      campaign.CampaignInput
		errors  []string // "code field"
		message string   // in the first error's message
	}{
		{name: "an email configuration inside the allowlist passes", cfg: emailCfg(campaign.Transactional),
			in: emailCampaign(campaign.Transactional, okEmail)},
		{name: "a From address outside the sender identity is an error, and SES is not asked", cfg: func() campaign.ConfigInput {
			c := emailCfg(campaign.Transactional)
			c.Email.FromAddress = "orders@globex.example"
			return c
		}(), in: emailCampaign(campaign.Transactional, okEmail),
			errors: []string{"sender_not_allowed channelConfigurationId"}, message: "the configuration's email.fromAddress must be an address of acme.example"},
		{name: "a push configuration of allowed applications passes", cfg: pushConfig(acmeIOS),
			in: campaign.CampaignInput{Name: "p", Type: campaign.Transactional, Channel: campaign.Push, Content: campaign.Content{Push: &campaign.PushContent{Title: "T", Body: "B"}}}},
		{name: "each push app outside the allowed applications is an error", cfg: pushConfig(otherIOS, acmeIOS, otherAcct),
			in:     campaign.CampaignInput{Name: "p", Type: campaign.Transactional, Channel: campaign.Push, Content: campaign.Content{Push: &campaign.PushContent{Title: "T", Body: "B"}}},
			errors: []string{"application_not_allowed channelConfigurationId", "application_not_allowed channelConfigurationId"}, message: "push.apps[0].platformApplicationArn is not a platform application"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New()
			// The configuration was stored under settings that allowed
			// it; the deployment now allows less.
			cfg, err := newService(store).CreateConfig(ctx, acme, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			svc := newService(store)
			svc.Allowed = acmeAllowed
			svc.Senders = senders{"broken"} // asking SES would warn sender_unchecked
			in := tt.in
			in.ChannelConfigID = cfg.ID
			c, err := svc.CreateCampaign(ctx, acme, in)
			if err != nil {
				t.Fatal(err)
			}
			r, err := svc.Review(ctx, acme, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range r.Errors {
				got = append(got, e.Code+" "+e.Field)
			}
			if diff := cmp.Diff(tt.errors, got); diff != "" {
				t.Errorf("review errors (-want +got):\n%s\n%+v", diff, r.Errors)
			}
			if len(r.Errors) > 0 && !contains(r.Errors[0].Message, tt.message) {
				t.Errorf("message %q, want it to say %q", r.Errors[0].Message, tt.message)
			}
			if tt.cfg.Email != nil && len(tt.errors) > 0 && len(r.Warnings) > 0 {
				t.Errorf("review warnings %+v: SES was asked about a sender the deployment does not allow", r.Warnings)
			}
			_, err = svc.Activate(ctx, acme, c.ID)
			if len(tt.errors) > 0 && !derrors.Is(err, derrors.Unprocessable) {
				t.Errorf("Activate = %v, want 422 while review has errors", err)
			}
		})
	}
}
