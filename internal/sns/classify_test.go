package sns_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/sns"
)

// TestPublishFailuresAreClassifiedAndNeverRetried drives the real SNS
// client (Query protocol) against a server that refuses each way SNS can.
func TestPublishFailuresAreClassifiedAndNeverRetried(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		code      string
		want      delivery.Failure
		wantCode  string
		wantToken bool
	}{
		{"a 500 is uncertain", 500, "InternalError", delivery.Uncertain, "5xx", false},
		{"Throttled is a throttle", 400, "Throttled", delivery.Throttled, "Throttled", false},
		{"a KMS key SNS cannot use holds the channel", 400, "KMSAccessDenied", delivery.Held, "KMSAccessDenied", false},
		{"InvalidParameter refuses the message", 400, "InvalidParameter", delivery.Refused, "InvalidParameter", false},
		{"a disabled endpoint is an invalid token", 400, "EndpointDisabled", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>no: +15555550100</Message></Error><RequestId>r</RequestId></ErrorResponse>`, tt.code)
			}))
			defer srv.Close()
			c := sns.New(awssns.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}))
			c.Timeout = time.Second
			var err error
			if tt.wantToken {
				_, err = c.Push(context.Background(), "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/1", `{"default":"x"}`)
			} else {
				_, err = c.SendSMS(context.Background(), delivery.SMS{To: "+15555550100", Body: "hi"})
			}
			if tt.wantToken {
				if !errors.Is(err, delivery.ErrInvalidToken) {
					t.Errorf("Push error = %v, want ErrInvalidToken", err)
				}
			} else {
				var se *delivery.SendError
				if !errors.As(err, &se) || se.Failure != tt.want || se.Code != tt.wantCode {
					t.Errorf("SendSMS error = %v, want %s %q", err, tt.want, tt.wantCode)
				}
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("the server got %d requests, want 1", n)
			}
		})
	}
}
