// Package sns sends SMS and mobile push through Amazon SNS: Publish to a
// phone number with the SMS message attributes, opt-out checks, platform
// endpoints (CreatePlatformEndpoint, kept enabled with the token it was
// created for) and Publish to an endpoint with MessageStructure "json".
//
// Errors are classified for delivery: throttling is derrors.Throttled
// (retry later), a disabled endpoint or a token the platform refuses is
// delivery.ErrInvalidToken, a deleted endpoint delivery.ErrEndpointGone;
// anything else is a final refusal.
package sns

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
)

// API is the part of the SNS client the adapter uses.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
	CheckIfPhoneNumberIsOptedOut(ctx context.Context, in *sns.CheckIfPhoneNumberIsOptedOutInput, opts ...func(*sns.Options)) (*sns.CheckIfPhoneNumberIsOptedOutOutput, error)
	CreatePlatformEndpoint(ctx context.Context, in *sns.CreatePlatformEndpointInput, opts ...func(*sns.Options)) (*sns.CreatePlatformEndpointOutput, error)
	GetEndpointAttributes(ctx context.Context, in *sns.GetEndpointAttributesInput, opts ...func(*sns.Options)) (*sns.GetEndpointAttributesOutput, error)
	SetEndpointAttributes(ctx context.Context, in *sns.SetEndpointAttributesInput, opts ...func(*sns.Options)) (*sns.SetEndpointAttributesOutput, error)
}

// Client implements delivery.SMSSender and delivery.Pusher.
type Client struct {
	api API
}

var (
	_ delivery.SMSSender = (*Client)(nil)
	_ delivery.Pusher    = (*Client)(nil)
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
	out, err := c.api.Publish(ctx, &sns.PublishInput{PhoneNumber: aws.String(m.To), Message: aws.String(m.Body), MessageAttributes: attrs})
	if err != nil {
		return "", classify("publish sms", err)
	}
	return aws.ToString(out.MessageId), nil
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
var existing = regexp.MustCompile(`Endpoint (arn:aws[^ ]*:sns:[^ ]+) already exists with the same [Tt]oken`)

// Endpoint implements delivery.Pusher, following SNS's recommended
// registration: create (idempotent for the same token), then make sure
// the endpoint is enabled and carries this token.
func (c *Client) Endpoint(ctx context.Context, appARN, token string) (string, error) {
	out, err := c.api.CreatePlatformEndpoint(ctx, &sns.CreatePlatformEndpointInput{PlatformApplicationArn: aws.String(appARN), Token: aws.String(token)})
	var arn string
	switch {
	case err == nil:
		arn = aws.ToString(out.EndpointArn)
	case isCode(err, "InvalidParameter") && existing.MatchString(errorMessage(err)):
		arn = existing.FindStringSubmatch(errorMessage(err))[1]
	case isCode(err, "InvalidParameter"):
		return "", fmt.Errorf("create endpoint: %w: %s", delivery.ErrInvalidToken, errorMessage(err))
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

// Push implements delivery.Pusher.
func (c *Client) Push(ctx context.Context, endpointARN, message string) (string, error) {
	out, err := c.api.Publish(ctx, &sns.PublishInput{TargetArn: aws.String(endpointARN), Message: aws.String(message),
		MessageStructure: aws.String("json")})
	if err != nil {
		return "", classify("publish push", err)
	}
	return aws.ToString(out.MessageId), nil
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

// classify maps SNS errors to delivery's contract.
func classify(op string, err error) error {
	var disabled *types.EndpointDisabledException
	var notFound *types.NotFoundException
	var throttled *types.ThrottledException
	var kmsThrottled *types.KMSThrottlingException
	switch {
	case errors.As(err, &disabled):
		return fmt.Errorf("%s: %w", op, delivery.ErrInvalidToken)
	case errors.As(err, &notFound) && strings.Contains(op, "push"):
		return fmt.Errorf("%s: %w", op, delivery.ErrEndpointGone)
	case errors.As(err, &throttled), errors.As(err, &kmsThrottled), isCode(err, "Throttling"), isCode(err, "ThrottlingException"):
		return &derrors.Error{Kind: derrors.Throttled, Detail: "SNS throttled the " + op}
	}
	return fmt.Errorf("sns %s: %w", op, err)
}
