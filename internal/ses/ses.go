// Package ses sends email through Amazon SES v2.
package ses

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
)

// API is the part of the SES v2 client the mailer uses.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Mailer implements delivery.Mailer with SES v2 Simple content; extra
// headers (List-Unsubscribe) travel as Simple message headers, BCC as
// destination BCC addresses.
type Mailer struct {
	api API
}

var _ delivery.Mailer = (*Mailer)(nil)

// New returns a mailer on api.
func New(api API) *Mailer { return &Mailer{api: api} }

// SendEmail implements delivery.Mailer. Throttling and sending-quota
// errors (after the SDK's own retries) are derrors.Throttled.
func (m *Mailer) SendEmail(ctx context.Context, e delivery.Email) (string, error) {
	body := &types.Body{}
	if e.HTML != "" {
		body.Html = &types.Content{Data: aws.String(e.HTML), Charset: aws.String("UTF-8")}
	}
	if e.Text != "" {
		body.Text = &types.Content{Data: aws.String(e.Text), Charset: aws.String("UTF-8")}
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(e.From),
		Destination:      &types.Destination{ToAddresses: []string{e.To}, BccAddresses: e.BCC},
		ReplyToAddresses: e.ReplyTo,
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(e.Subject), Charset: aws.String("UTF-8")},
			Body:    body,
		}},
	}
	for _, h := range e.Headers {
		in.Content.Simple.Headers = append(in.Content.Simple.Headers, types.MessageHeader{Name: aws.String(h.Name), Value: aws.String(h.Value)})
	}
	if e.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(e.ConfigurationSet)
	}
	names := make([]string, 0, len(e.Tags))
	for k := range e.Tags {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		in.EmailTags = append(in.EmailTags, types.MessageTag{Name: aws.String(k), Value: aws.String(e.Tags[k])})
	}
	out, err := m.api.SendEmail(ctx, in)
	if err != nil {
		return "", classify(err)
	}
	return aws.ToString(out.MessageId), nil
}

// classify marks the errors after which nothing was sent and a later
// retry may succeed.
func classify(err error) error {
	var tmr *types.TooManyRequestsException
	var le *types.LimitExceededException
	var ae smithy.APIError
	switch {
	case errors.As(err, &tmr), errors.As(err, &le):
		return &derrors.Error{Kind: derrors.Throttled, Detail: "SES throttled the send: " + err.Error()}
	case errors.As(err, &ae) && (ae.ErrorCode() == "Throttling" || ae.ErrorCode() == "ThrottlingException"):
		return &derrors.Error{Kind: derrors.Throttled, Detail: "SES throttled the send: " + ae.ErrorCode()}
	}
	return fmt.Errorf("ses send: %w", err)
}
