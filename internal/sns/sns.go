// Package sns sends SMS and mobile push through Amazon SNS: Publish to a
// phone number with the SMS message attributes, opt-out checks, platform
// endpoints (CreatePlatformEndpoint, kept enabled with the token it was
// created for) and Publish to an endpoint with MessageStructure "json".
//
// A Publish is one request (the SDK's retries are off for it: a retry
// after SNS accepted a message whose answer was lost sends it twice); its
// failure is a *delivery.SendError (see awssend), except that a disabled
// endpoint or a token the platform refuses is delivery.ErrInvalidToken and
// a deleted endpoint delivery.ErrEndpointGone. Endpoint management calls
// send nothing, keep the SDK's retries, and fail as NotSent (or
// Throttled, or Held) so the message is retried later.
package sns

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/heraldhq/herald/internal/awssend"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/feedback"
)

// API is the part of the SNS client the adapter uses.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
	CheckIfPhoneNumberIsOptedOut(ctx context.Context, in *sns.CheckIfPhoneNumberIsOptedOutInput, opts ...func(*sns.Options)) (*sns.CheckIfPhoneNumberIsOptedOutOutput, error)
	CreatePlatformEndpoint(ctx context.Context, in *sns.CreatePlatformEndpointInput, opts ...func(*sns.Options)) (*sns.CreatePlatformEndpointOutput, error)
	GetEndpointAttributes(ctx context.Context, in *sns.GetEndpointAttributesInput, opts ...func(*sns.Options)) (*sns.GetEndpointAttributesOutput, error)
	SetEndpointAttributes(ctx context.Context, in *sns.SetEndpointAttributesInput, opts ...func(*sns.Options)) (*sns.SetEndpointAttributesOutput, error)
}

// Client implements delivery.SMSSender, delivery.Pusher and
// feedback.EndpointReader.
type Client struct {
	api API
	// Timeout bounds one Publish call (awssend.DefaultTimeout when 0).
	Timeout time.Duration
}

// Codes are SNS's Publish error codes that do not refuse the message
// itself: throttling asks to wait; a KMS key SNS cannot use holds the
// channel (every message would fail the same way).
var Codes = awssend.Codes{
	Throttle: []string{"Throttled", "Throttling", "ThrottlingException", "KMSThrottling"},
	Hold:     []string{"KMSAccessDenied", "KMSDisabled", "KMSInvalidState", "KMSNotFound", "KMSOptInRequired"},
}

// noRetries makes one Publish call exactly one request.
func noRetries(o *sns.Options) { o.Retryer = aws.NopRetryer{} }

// publish sends one Publish request and classifies its failure.
func (c *Client) publish(ctx context.Context, in *sns.PublishInput) (string, error) {
	var out *sns.PublishOutput
	err := awssend.Call(ctx, c.Timeout, Codes, func(ctx context.Context) (err error) {
		out, err = c.api.Publish(ctx, in, noRetries)
		return err
	})
	if err != nil {
		var se *delivery.SendError
		switch {
		case isCode(err, "EndpointDisabled"):
			return "", fmt.Errorf("publish: %w", delivery.ErrInvalidToken)
		case isCode(err, "NotFound") && in.TargetArn != nil:
			return "", fmt.Errorf("publish: %w", delivery.ErrEndpointGone)
		case errors.As(err, &se):
			return "", se
		}
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}

var (
	_ delivery.SMSSender      = (*Client)(nil)
	_ delivery.Pusher         = (*Client)(nil)
	_ feedback.EndpointReader = (*Client)(nil)
)

// New returns a client on api.
func New(api API) *Client { return &Client{api: api} }

// SMS message attribute names.
const (
	AttrSMSType           = "AWS.SNS.SMS.SMSType"
	AttrSenderID          = "AWS.SNS.SMS.SenderID"
	AttrOriginationNumber = "AWS.MM.SMS.OriginationNumber"
)

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// SendSMS implements delivery.SMSSender.
func (c *Client) SendSMS(ctx context.Context, m delivery.SMS) (string, error) {
	attrs := map[string]types.MessageAttributeValue{}
	if m.Type != "" {
		attrs[AttrSMSType] = stringAttr(m.Type)
	}
	if m.SenderID != "" {
		attrs[AttrSenderID] = stringAttr(m.SenderID)
	}
	if m.OriginationNumber != "" {
		attrs[AttrOriginationNumber] = stringAttr(m.OriginationNumber)
	}
	return c.publish(ctx, &sns.PublishInput{PhoneNumber: aws.String(m.To), Message: aws.String(m.Body), MessageAttributes: attrs})
}

// OptedOut implements delivery.SMSSender.
func (c *Client) OptedOut(ctx context.Context, phone string) (bool, error) {
	out, err := c.api.CheckIfPhoneNumberIsOptedOut(ctx, &sns.CheckIfPhoneNumberIsOptedOutInput{PhoneNumber: aws.String(phone)})
	if err != nil {
		return false, classify("opt-out check", err)
	}
	return out.IsOptedOut, nil
}

// existing finds the endpoint ARN in SNS's answer to creating an endpoint
// for a token that has one with other attributes.
var existing = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`Endpoint (arn:aws[^ ]*:sns:[^ ]+) already exists with the same [Tt]oken`)
})

// Endpoint implements delivery.Pusher, following SNS's recommended
// registration: create (idempotent for the same token), then make sure
// the endpoint is enabled and carries this token.
func (c *Client) Endpoint(ctx context.Context, appARN, token string) (string, error) {
	out, err := c.api.CreatePlatformEndpoint(ctx, &sns.CreatePlatformEndpointInput{PlatformApplicationArn: aws.String(appARN), Token: aws.String(token)})
	var arn string
	switch {
	case err == nil:
		arn = aws.ToString(out.EndpointArn)
	case isCode(err, "InvalidParameter") && existing().MatchString(errorMessage(err)):
		arn = existing().FindStringSubmatch(errorMessage(err))[1]
	case isCode(err, "InvalidParameter"):
		return "", fmt.Errorf("create endpoint: %w", delivery.ErrInvalidToken)
	default:
		return "", classify("create endpoint", err)
	}
	attrs, err := c.api.GetEndpointAttributes(ctx, &sns.GetEndpointAttributesInput{EndpointArn: aws.String(arn)})
	if err != nil {
		return "", classify("endpoint attributes", err)
	}
	if attrs.Attributes["Enabled"] != "true" || attrs.Attributes["Token"] != token {
		_, err := c.api.SetEndpointAttributes(ctx, &sns.SetEndpointAttributesInput{EndpointArn: aws.String(arn),
			Attributes: map[string]string{"Token": token, "Enabled": "true"}})
		if err != nil {
			return "", classify("enable endpoint", err)
		}
	}
	return arn, nil
}

// EndpointEnabled implements feedback.EndpointReader: the endpoint's
// Enabled attribute, delivery.ErrEndpointGone for an endpoint that no
// longer exists, and a classified failure (retry later) otherwise.
func (c *Client) EndpointEnabled(ctx context.Context, endpointARN string) (bool, error) {
	out, err := c.api.GetEndpointAttributes(ctx, &sns.GetEndpointAttributesInput{EndpointArn: aws.String(endpointARN)})
	switch {
	case isCode(err, "NotFound"):
		return false, fmt.Errorf("endpoint attributes: %w", delivery.ErrEndpointGone)
	case err != nil:
		return false, classify("endpoint attributes", err)
	}
	return out.Attributes["Enabled"] == "true", nil
}

// Push implements delivery.Pusher.
func (c *Client) Push(ctx context.Context, endpointARN, message string) (string, error) {
	return c.publish(ctx, &sns.PublishInput{TargetArn: aws.String(endpointARN), Message: aws.String(message),
		MessageStructure: aws.String("json")})
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return err.Error()
}

// classify maps the failure of a call that sends nothing (endpoint
// management, opt-out checks): throttling and held accounts as such,
// anything else NotSent — the message is retried later.
func classify(op string, err error) error {
	se := awssend.Classify(err, false, false, Codes)
	if se.Failure != delivery.Throttled && se.Failure != delivery.Held {
		se.Failure = delivery.NotSent
	}
	return fmt.Errorf("sns %s: %w", op, se)
}
