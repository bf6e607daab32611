package localcloud

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deployments are parameter sets the template is deployed with: the
// local cloud's, a domain with a name pattern of applications, and one
// address without push.
var deployments = map[string]map[string]string{
	"the local cloud": DefaultParameters,
	"a domain and herald-* applications": {"SenderIdentity": "mail.example.com", "PushApplicationNames": "herald-*",
		"UnsubscribeSecret": DemoUnsubscribeSecret},
	"one address and no push": {"SenderIdentity": "news@example.com", "UnsubscribeSecret": DemoUnsubscribeSecret},
}

func TestNoFunctionMaySendWhereHeraldDoesNotOwn(t *testing.T) {
	for name, params := range deployments {
		t.Run(name, func(t *testing.T) {
			s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: "http://127.0.0.1:5000", Parameters: params})
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckSendPermissions(s); err != nil {
				t.Errorf("template.yaml:\n%v", err)
			}
		})
	}
}

// The allowlist the functions enforce and the applications IAM lets
// Dispatch use are the same pattern, from the same parameter.
func TestTheFunctionsAllowWhatTheirRoleMayUse(t *testing.T) {
	tests := []struct {
		name     string
		params   map[string]string
		identity string
		apps     string // HERALD_PUSH_APPLICATIONS and the CreatePlatformEndpoint resource
	}{
		{"the local cloud", deployments["the local cloud"], "herald.example", "arn:aws:sns:us-east-1:123456789012:app/*/*"},
		{"a name pattern", deployments["a domain and herald-* applications"], "mail.example.com", "arn:aws:sns:us-east-1:123456789012:app/*/herald-*"},
		{"no push", deployments["one address and no push"], "news@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: "http://127.0.0.1:5000", Parameters: tt.params})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"ManageFunction", "DispatchFunction"} {
				env := s.Functions[id].Env
				if env["HERALD_SENDER_IDENTITY"] != tt.identity || env["HERALD_PUSH_APPLICATIONS"] != tt.apps {
					t.Errorf("%s: HERALD_SENDER_IDENTITY %q, HERALD_PUSH_APPLICATIONS %q; want %q, %q", id,
						env["HERALD_SENDER_IDENTITY"], env["HERALD_PUSH_APPLICATIONS"], tt.identity, tt.apps)
				}
			}
			var creates []string
			for _, st := range s.Functions["DispatchFunction"].Policy.Statements {
				if grants(st, "sns:CreatePlatformEndpoint") {
					creates = append(creates, st.Resource...)
				}
			}
			var want []string
			if tt.apps != "" {
				want = []string{tt.apps}
			}
			if diff := cmp.Diff(want, creates); diff != "" {
				t.Errorf("Dispatch may create endpoints under (-want +got):\n%s", diff)
			}
			// Feedback reads the endpoints an endpoint event names, of the
			// same applications.
			var reads []string
			for _, st := range s.Functions["FeedbackFunction"].Policy.Statements {
				if grants(st, "sns:GetEndpointAttributes") {
					reads = append(reads, st.Resource...)
				}
			}
			want = nil
			if tt.apps != "" {
				want = []string{strings.Replace(tt.apps, ":app/", ":endpoint/", 1) + "/*"}
			}
			if diff := cmp.Diff(want, reads); diff != "" {
				t.Errorf("Feedback may read endpoints under (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendPermissionsThatReachTooFarAreRefused(t *testing.T) {
	const (
		app      = "arn:aws:sns:us-east-1:123456789012:app/*/herald-*"
		endpoint = "arn:aws:sns:us-east-1:123456789012:endpoint/*/herald-*/*"
		sender   = "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com"
		ownTopic = "arn:aws:sns:us-east-1:123456789012:herald-local-HeraldEvents"
	)
	allow := func(action, resource string) string {
		return `{"Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
	}
	tests := []struct {
		name     string
		policies string // the function's Policies, resolved, as JSON
		role     string
		want     string // in the error; "" for none
	}{
		{name: "publishing to every resource (SMS done the easy way)", policies: allow("sns:Publish", "*"), want: "sns:Publish on *, which may be an SNS topic"},
		{name: "publishing to every topic of the account", policies: allow("sns:Publish", "arn:aws:sns:us-east-1:123456789012:*"), want: "may be an SNS topic"},
		{name: "publishing to one topic the template does not declare", policies: allow("sns:Publish", "arn:aws:sns:us-east-1:123456789012:alerts"), want: "may be an SNS topic"},
		{name: "every SNS action on a topic", policies: allow("sns:*", "arn:aws:sns:us-east-1:123456789012:alerts"), want: "may be an SNS topic"},
		{name: "every action on everything", policies: allow("*", "*"), want: "sns:Publish on *"},
		{name: "an action in another case", policies: allow("SNS:publish", "*"), want: "sns:Publish on *"},
		{name: "a wildcard action", policies: allow("sns:Pub*", "*"), want: "sns:Publish on *"},
		{name: "every action but SQS's", policies: `{"Statement":[{"Effect":"Allow","NotAction":"sqs:*","Resource":"*"}]}`, want: "sns:Publish on *"},
		{name: "a NotResource that leaves topics allowed",
			policies: `{"Statement":[{"Effect":"Allow","Action":"sns:Publish","NotResource":"arn:aws:sns:*:*:endpoint/*"}]}`, want: "SNS topics included"},
		{name: "a NotResource that excludes this region's topics only",
			policies: `{"Statement":[{"Effect":"Allow","Action":"sns:Publish","NotResource":"arn:aws:sns:us-east-1:*:*"}]}`, want: "SNS topics included"},
		{name: "publishing to every endpoint of the account", policies: allow("sns:Publish", "arn:aws:sns:us-east-1:123456789012:endpoint/*"),
			want: "push may publish only to endpoints of the PushApplicationNames applications"},
		{name: "making endpoints under every application", policies: allow("sns:CreatePlatformEndpoint", "arn:aws:sns:us-east-1:123456789012:app/*"),
			want: "sns:CreatePlatformEndpoint on arn:aws:sns:us-east-1:123456789012:app/*: want only " + app},
		{name: "sending as every identity", policies: allow("ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/*"), want: "want only the SenderIdentity identity"},
		{name: "sending raw email as anything", policies: allow("ses:SendRawEmail", "*"), want: "ses:SendRawEmail on *"},
		{name: "sending as another identity", policies: allow("ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/other.example"), want: "want only the SenderIdentity identity"},
		{name: "sending as the identity of another account", policies: allow("ses:SendEmail", "arn:aws:ses:us-east-1:999999999999:identity/mail.example.com"), want: "want only the SenderIdentity identity"},
		{name: "sending with any configuration set, which is a pattern", policies: allow("ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:configuration-set/*"), want: "want only the SenderIdentity identity"},
		{name: "sending as everything but one identity",
			policies: `{"Statement":[{"Effect":"Allow","Action":"ses:SendEmail","NotResource":"arn:aws:ses:*:*:identity/other.example"}]}`, want: "on everything but"},
		{name: "a managed policy", policies: `"AmazonSNSFullAccess"`, want: "holds the policy AmazonSNSFullAccess"},
		{name: "a SAM policy template that publishes", policies: `[{"SNSPublishMessagePolicy":{"TopicName":"alerts"}}]`, want: "holds the policy SNSPublishMessagePolicy"},
		{name: "a role of its own", policies: `[]`, role: "arn:aws:iam::123456789012:role/admin", want: "brings its own role"},

		{name: "publishing to phone numbers only passes", policies: `{"Statement":[{"Effect":"Allow","Action":"sns:Publish","NotResource":"arn:aws:sns:*:*:*"}]}`},
		{name: "publishing to the template's own topic passes", policies: allow("sns:Publish", ownTopic)},
		{name: "push within the applications passes", policies: `{"Statement":[{"Effect":"Allow","Action":"sns:CreatePlatformEndpoint","Resource":"` + app + `"},` +
			`{"Effect":"Allow","Action":["sns:Publish","sns:SetEndpointAttributes"],"Resource":["` + endpoint + `"]}]}`},
		{name: "sending as the identity with a configuration set passes",
			policies: `[{"Statement":{"Effect":"Allow","Action":"ses:SendEmail","Resource":["` + sender + `","arn:aws:ses:us-east-1:123456789012:configuration-set/events"]}}]`},
		{name: "a deny grants nothing", policies: `{"Statement":[{"Effect":"Deny","Action":"sns:Publish","Resource":"*"}]}`},
		{name: "the readable SAM policy templates pass", policies: `[{"DynamoDBCrudPolicy":{"TableName":"t"}},{"SQSSendMessagePolicy":{"QueueName":"q"}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadStack("../../template.yaml", StackOptions{MotoURL: "http://127.0.0.1:5000", Parameters: deployments["a domain and herald-* applications"]})
			if err != nil {
				t.Fatal(err)
			}
			s.Topics = append(s.Topics, ownTopic)
			var v any
			if err := json.Unmarshal([]byte(tt.policies), &v); err != nil {
				t.Fatal(err)
			}
			p, err := ParsePolicies(v)
			if err != nil {
				t.Fatal(err)
			}
			p.Role = tt.role
			s.Functions["DispatchFunction"].Policy = p
			err = CheckSendPermissions(s)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckSendPermissions = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), "DispatchFunction: ") || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckSendPermissions = %v\nwant an error naming DispatchFunction and saying %q", err, tt.want)
			}
		})
	}
}
