// Package ses sends email through Amazon SES v2.
package ses

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/heraldhq/herald/internal/awssend"
	"github.com/heraldhq/herald/internal/delivery"
)

// API is the part of the SES v2 client the mailer uses.
type API interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// AccountAPI is the part of the SES v2 client that reads the account's
// sending limits; a mailer whose API has it reports MaxSendRate.
type AccountAPI interface {
	GetAccount(ctx context.Context, in *sesv2.GetAccountInput, opts ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)
}

// Mailer implements delivery.Mailer with SES v2 Simple content; extra
// headers (List-Unsubscribe) travel as Simple message headers, BCC as
// destination BCC addresses.
//
// A send is one request: the SDK's retries are off for SendEmail, because
// a retry after SES accepted a message whose answer was lost sends it
// twice. Delivery decides every attempt from the classified failure.
type Mailer struct {
	api API
	// Timeout bounds one SendEmail call (awssend.DefaultTimeout when 0).
	Timeout time.Duration
}

var (
	_ delivery.Mailer       = (*Mailer)(nil)
	_ delivery.RateReporter = (*Mailer)(nil)
)

// New returns a mailer on api.
func New(api API) *Mailer { return &Mailer{api: api} }

// Codes are SES v2's SendEmail error codes that do not refuse the message
// itself: throttling and the daily quota ask to wait; a paused or
// suspended account holds the channel.
var Codes = awssend.Codes{
	Throttle: []string{"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"},
	Hold:     []string{"SendingPausedException", "AccountSuspendedException"},
}

// noRetries makes one SendEmail call exactly one request.
func noRetries(o *sesv2.Options) { o.Retryer = aws.NopRetryer{} }

// MaxSendRate implements delivery.RateReporter: the account's maximum
// send rate from GetAccount, when the API can read it.
func (m *Mailer) MaxSendRate(ctx context.Context) (float64, error) {
	a, ok := m.api.(AccountAPI)
	if !ok {
		return 0, errors.New("ses: the client cannot read the account")
	}
	out, err := a.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		return 0, fmt.Errorf("ses account: %w", err)
	}
	if out.SendQuota == nil {
		return 0, errors.New("ses account: no send quota")
	}
	return out.SendQuota.MaxSendRate, nil
}

// SendEmail implements delivery.Mailer: one request, its failure a
// *delivery.SendError (see awssend).
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
	var out *sesv2.SendEmailOutput
	err := awssend.Call(ctx, m.Timeout, Codes, func(ctx context.Context) (err error) {
		out, err = m.api.SendEmail(ctx, in, noRetries)
		return err
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}
