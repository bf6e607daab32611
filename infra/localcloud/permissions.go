package localcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/campaign"
)

// Policy is what a function's role may do, as the template says: its
// inline statements, with intrinsics resolved, and the policies it holds
// by name.
type Policy struct {
	Statements []Statement
	// Named are SAM policy templates (DynamoDBCrudPolicy) and managed
	// policies (by name or ARN); their statements are not in the template.
	Named []string
	// Role is set when the function brings its own role: then its
	// permissions are not in the template at all.
	Role string
}

// Statement is one IAM policy statement. A single string in the template
// is a one-element list here.
type Statement struct {
	Sid         string         `json:"Sid"`
	Effect      string         `json:"Effect"`
	Action      stringList     `json:"Action"`
	NotAction   stringList     `json:"NotAction"`
	Resource    stringList     `json:"Resource"`
	NotResource stringList     `json:"NotResource"`
	Condition   map[string]any `json:"Condition"`
}

// stringList is an IAM element that may be a string or a list of them;
// entries an Fn::If removed (AWS::NoValue, null once resolved) are left
// out.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = stringList{one}
		return nil
	}
	var many []*string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %s", b)
	}
	for _, s := range many {
		if s != nil {
			*l = append(*l, *s)
		}
	}
	return nil
}

// ParsePolicies reads a SAM function's Policies property, resolved: a
// managed policy name or ARN, a policy document, a SAM policy template
// ({"DynamoDBCrudPolicy": {...}}), or a list of those.
func ParsePolicies(v any) (Policy, error) {
	var p Policy
	var items []any
	switch v := v.(type) {
	case nil:
		return p, nil
	case []any:
		items = v
	default:
		items = []any{v}
	}
	for i, item := range items {
		switch item := item.(type) {
		case nil: // an Fn::If that resolved to AWS::NoValue
		case string:
			p.Named = append(p.Named, item)
		case map[string]any:
			if _, ok := item["Statement"]; !ok {
				if len(item) != 1 {
					return Policy{}, fmt.Errorf("Policies[%d]: neither a policy document nor a policy template", i)
				}
				p.Named = append(p.Named, slices.Collect(maps.Keys(item))[0])
				continue
			}
			b, err := json.Marshal(item["Statement"])
			if err != nil {
				return Policy{}, err
			}
			var sts []*Statement
			if err := json.Unmarshal(b, &sts); err != nil {
				var one Statement
				if err2 := json.Unmarshal(b, &one); err2 != nil {
					return Policy{}, fmt.Errorf("Policies[%d].Statement: %w", i, err)
				}
				sts = []*Statement{&one}
			}
			for _, st := range sts {
				if st != nil {
					p.Statements = append(p.Statements, *st)
				}
			}
		default:
			return Policy{}, fmt.Errorf("Policies[%d]: unexpected %T", i, item)
		}
	}
	return p, nil
}

// readablePolicies are the SAM policy templates the check knows to grant
// no SNS and no SES action; any other named policy is refused, since its
// statements cannot be read from the template.
var readablePolicies = []string{"DynamoDBReadPolicy", "DynamoDBCrudPolicy", "SQSSendMessagePolicy", "SQSPollerPolicy"}

// sesSendActions send email as an identity.
var sesSendActions = []string{"ses:SendEmail", "ses:SendRawEmail", "ses:SendTemplatedEmail", "ses:SendBulkEmail", "ses:SendBulkTemplatedEmail"}

// pushActions act on platform applications and their endpoints.
var pushActions = []string{"sns:CreatePlatformEndpoint", "sns:GetEndpointAttributes", "sns:SetEndpointAttributes", "sns:DeleteEndpoint"}

// CheckSendPermissions reports every function whose role may send where
// Herald does not own, so that what the code refuses (see
// campaign.Allowlist) IAM refuses too:
//
//   - sns:Publish on anything that may be an SNS topic other than the
//     template's own: Herald publishes SMS to phone numbers and push to
//     platform endpoints, never to a topic. A topic's ARN never holds a
//     '/', an endpoint's always does, so a Resource without one may name a
//     topic; a NotResource must exclude every SNS ARN.
//   - sns:Publish on endpoints, and the endpoint actions, beyond the
//     applications PushApplicationNames names
//     (…:endpoint/*/<names>/*, …:app/*/<names>);
//   - SES sending as anything but the SenderIdentity identity (and
//     configuration sets, named exactly);
//   - a role of its own, or a policy by name the check cannot read.
//
// Deny statements and conditions are not counted: only what an Allow
// grants on its face.
func CheckSendPermissions(s *Stack) error {
	head := "arn:aws:sns:" + s.Region + ":" + s.AccountID + ":"
	var apps, endpoints string
	if names := s.Parameters["PushApplicationNames"]; names != "" {
		apps, endpoints = head+"app/*/"+names, head+"endpoint/*/"+names+"/*"
	}
	sender := "arn:aws:ses:" + s.Region + ":" + s.AccountID + ":identity/" + s.Parameters["SenderIdentity"]
	configSets := "arn:aws:ses:" + s.Region + ":" + s.AccountID + ":configuration-set/"
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(s.Functions)) {
		p := s.Functions[id].Policy
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s", id, fmt.Sprintf(format, args...)))
		}
		if p.Role != "" {
			bad("brings its own role (%s), whose permissions cannot be checked here", p.Role)
		}
		for _, n := range p.Named {
			if !slices.Contains(readablePolicies, n) {
				bad("holds the policy %s, whose statements cannot be checked here", n)
			}
		}
		for i, st := range p.Statements {
			if st.Effect != "Allow" {
				continue
			}
			name := fmt.Sprintf("statement %d", i)
			if st.Sid != "" {
				name = st.Sid
			}
			if grants(st, "sns:Publish") {
				if len(st.NotResource) > 0 && !excludesEveryTopic(st.NotResource) {
					bad("%s allows sns:Publish on everything but %v: SNS topics included", name, []string(st.NotResource))
				}
				for _, r := range st.Resource {
					switch {
					case slices.Contains(s.Topics, r):
					case mayBeTopic(r):
						bad("%s allows sns:Publish on %s, which may be an SNS topic the template does not own", name, r)
					case r != endpoints || endpoints == "":
						bad("%s allows sns:Publish on %s: push may publish only to endpoints of the PushApplicationNames applications (%s)", name, r, orNone(endpoints))
					}
				}
			}
			for _, a := range pushActions {
				if !grants(st, a) {
					continue
				}
				want := endpoints
				if a == "sns:CreatePlatformEndpoint" {
					want = apps
				}
				if len(st.NotResource) > 0 {
					bad("%s allows %s on everything but %v: want only %s", name, a, []string(st.NotResource), orNone(want))
				}
				for _, r := range st.Resource {
					if r != want || want == "" {
						bad("%s allows %s on %s: want only %s", name, a, r, orNone(want))
					}
				}
			}
			for _, a := range sesSendActions {
				if !grants(st, a) {
					continue
				}
				if len(st.NotResource) > 0 {
					bad("%s allows %s on everything but %v: want only %s", name, a, []string(st.NotResource), sender)
				}
				for _, r := range st.Resource {
					set, isSet := strings.CutPrefix(r, configSets)
					if r != sender && !(isSet && set != "" && !strings.ContainsAny(set, "*?")) {
						bad("%s allows %s on %s: want only the SenderIdentity identity %s (and configuration sets by name)", name, a, r, sender)
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// grants reports whether an Allow statement's actions include action
// (actions compare without regard to case; wildcards as in IAM).
func grants(st Statement, action string) bool {
	action = strings.ToLower(action)
	match := func(list stringList) bool {
		return slices.ContainsFunc(list, func(p string) bool { return campaign.MatchARN(strings.ToLower(p), action) })
	}
	if len(st.NotAction) > 0 {
		return !match(st.NotAction)
	}
	return match(st.Action)
}

// mayBeTopic reports whether a Resource pattern may match an SNS topic's
// ARN (arn:<partition>:sns:<region>:<account>:<name>, names of letters,
// digits, '-', '_' and '.fifo'): it holds no '/', and is not plainly the
// ARN of another service.
func mayBeTopic(pattern string) bool {
	if strings.Contains(pattern, "/") {
		return false
	}
	parts := strings.SplitN(pattern, ":", 4)
	if len(parts) >= 3 && !strings.ContainsAny(parts[0]+parts[1]+parts[2], "*?") {
		return parts[2] == "sns"
	}
	return true
}

// excludesEveryTopic reports whether a NotResource list leaves no SNS
// topic allowed: one of its patterns matches every topic ARN, of any
// region and account.
func excludesEveryTopic(notResource stringList) bool {
	probes := []string{"arn:aws:sns:us-east-1:123456789012:alerts", "arn:aws:sns:eu-west-1:999999999999:Other_Topic-2.fifo"}
	return slices.ContainsFunc(notResource, func(p string) bool {
		return !slices.ContainsFunc(probes, func(t string) bool { return !campaign.MatchARN(p, t) })
	})
}

func orNone(pattern string) string {
	if pattern == "" {
		return "none (PushApplicationNames is empty)"
	}
	return pattern
}
