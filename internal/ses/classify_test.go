package ses_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/ses"
)

// sesAt returns a mailer whose SES client talks to url, with the SDK's
// default retryer (the mailer must switch it off for sends).
func sesAt(url string) *ses.Mailer {
	client := sesv2.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	m := ses.New(client)
	m.Timeout = 500 * time.Millisecond
	return m
}

var email = delivery.Email{From: "orders@shop.example", To: "jane@example.com", Subject: "s", Text: "t"}

// TestSendFailuresAreClassifiedAndNeverRetried drives the real SDK client
// against a server that fails each way a provider can, and checks the
// classification and that exactly one request reached the server.
func TestSendFailuresAreClassifiedAndNeverRetried(t *testing.T) {
	errorReply := func(status int, code string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("X-Amzn-ErrorType", code)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"message":"refused: jane@example.com"}`))
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    delivery.Failure
		code    string
	}{
		{"a 500 after the request was read is uncertain", errorReply(500, "InternalFailure"), delivery.Uncertain, "5xx"},
		{"a 503 is uncertain too", errorReply(503, "ServiceUnavailable"), delivery.Uncertain, "5xx"},
		{"TooManyRequests is a throttle", errorReply(429, "TooManyRequestsException"), delivery.Throttled, "TooManyRequestsException"},
		{"the daily quota is a throttle", errorReply(400, "LimitExceededException"), delivery.Throttled, "LimitExceededException"},
		{"a paused account holds the channel", errorReply(400, "SendingPausedException"), delivery.Held, "SendingPausedException"},
		{"a suspended account holds the channel", errorReply(400, "AccountSuspendedException"), delivery.Held, "AccountSuspendedException"},
		{"MessageRejected refuses the message", errorReply(400, "MessageRejected"), delivery.Refused, "MessageRejected"},
		{"a reset after the request was read is uncertain", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			resetConn(t, w)
		}, delivery.Uncertain, "reset"},
		{"no answer before the timeout is uncertain", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, delivery.Uncertain, "timeout"},
		{"a truncated answer is uncertain", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"MessageId":"0100`))
			w.(http.Flusher).Flush()
			resetConn(t, w)
		}, delivery.Uncertain, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				tt.handler(w, r)
			}))
			defer srv.Close()
			_, err := sesAt(srv.URL).SendEmail(context.Background(), email)
			var se *delivery.SendError
			if !errors.As(err, &se) {
				t.Fatalf("SendEmail error = %v, want a *delivery.SendError", err)
			}
			if se.Failure != tt.want || se.Code != tt.code {
				t.Errorf("classified as %s %q, want %s %q", se.Failure, se.Code, tt.want, tt.code)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("the server got %d requests, want 1: a send is never retried by the SDK", n)
			}
			if got := se.Error(); got != "send "+tt.want.String()+": "+tt.code {
				t.Errorf("Error() = %q, want only the class and code (no provider text)", got)
			}
		})
	}
}

func TestARequestThatNeverLeftIsNotSent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens: the connection is refused
	_, err = sesAt(url).SendEmail(context.Background(), email)
	var se *delivery.SendError
	if !errors.As(err, &se) || se.Failure != delivery.NotSent || se.Code != "unreachable" {
		t.Errorf("SendEmail to a closed port = %v, want NotSent unreachable", err)
	}
}

// resetConn closes the connection under w with an RST, as a peer that
// dropped it would.
func resetConn(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
