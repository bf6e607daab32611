package sqs

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// VisibilityAPI is the part of the SQS client that delays a received
// message's return.
type VisibilityAPI interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Visibility sets when received messages of one queue come back: how
// Dispatch's backoff is expressed, instead of the queue's fixed timeout.
type Visibility struct {
	api VisibilityAPI
	url string
}

// NewVisibility returns the visibility of queue url's messages.
func NewVisibility(api VisibilityAPI, url string) *Visibility { return &Visibility{api: api, url: url} }

// MaxVisibility is SQS's longest visibility timeout.
const MaxVisibility = 12 * time.Hour

// ChangeVisibility makes the message of receiptHandle visible again after
// d, rounded up to whole seconds (SQS's unit), at least one second and at
// most MaxVisibility.
func (v *Visibility) ChangeVisibility(ctx context.Context, receiptHandle string, d time.Duration) error {
	secs := int32(min(max(math.Ceil(d.Seconds()), 1), MaxVisibility.Seconds()))
	_, err := v.api.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(v.url),
		ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: secs})
	if err != nil {
		return fmt.Errorf("change visibility: %w", err)
	}
	return nil
}
