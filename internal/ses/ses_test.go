package ses_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/ses"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

func TestSendEmailReachesSES(t *testing.T) {
	moto := motoserver.Shared(t)
	ctx := context.Background()
	client := sesv2.NewFromConfig(moto.AWSConfig())
	if _, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("ses-test.example")}); err != nil {
		t.Fatal(err)
	}
	m := ses.New(client)
	id, err := m.SendEmail(ctx, delivery.Email{
		From: `"Shop" <orders@ses-test.example>`, To: "jane@example.com", ReplyTo: []string{"help@ses-test.example"},
		Subject: "Your order A-1", HTML: "<p>Hi Jane</p>", Text: "Hi Jane",
		Tags: map[string]string{"campaignId": "c1", "executionId": "e1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Error("SendEmail returned no message id")
	}
	sent, err := moto.SentEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []motoserver.Email
	for _, e := range sent {
		if e.ID == id {
			got = append(got, e)
		}
	}
	want := []motoserver.Email{{ID: id, Source: `"Shop" <orders@ses-test.example>`,
		Destinations: motoserver.EmailDestinations{To: []string{"jane@example.com"}}, Subject: "Your order A-1", Body: "<p>Hi Jane</p>"}}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".Cc" || p.Last().String() == ".Bcc"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("moto's record of the email (-want +got):\n%s", diff)
	}
}

func TestSendEmailFromAnUnverifiedSenderFailsFinally(t *testing.T) {
	moto := motoserver.Shared(t)
	m := ses.New(sesv2.NewFromConfig(moto.AWSConfig()))
	_, err := m.SendEmail(context.Background(), delivery.Email{From: "x@unverified.example", To: "jane@example.com", Subject: "s", Text: "t"})
	if err == nil {
		t.Fatal("SendEmail from an unverified identity succeeded")
	}
}

// recordingHTTP is the SDK's HTTP client with every request body kept:
// moto drops the headers of a Simple email, so they are proven on the
// request the SDK really sends.
type recordingHTTP struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recordingHTTP) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
	}
	return http.DefaultClient.Do(req)
}

func TestHeadersAndBCCTravelOnTheRequestAndMotoAcceptsThem(t *testing.T) {
	moto := motoserver.Shared(t)
	ctx := context.Background()
	rec := &recordingHTTP{}
	client := sesv2.NewFromConfig(moto.AWSConfig(), func(o *sesv2.Options) { o.HTTPClient = rec })
	if _, err := client.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("ses-headers.example")}); err != nil {
		t.Fatal(err)
	}
	lu := "<https://api.herald.example/unsubscribe?token=abc>, <mailto:unsub@ses-headers.example?subject=unsubscribe>"
	id, err := ses.New(client).SendEmail(ctx, delivery.Email{
		From: "news@ses-headers.example", To: "jane@example.com", BCC: []string{"archive@ses-headers.example"},
		Subject: "Sale", Text: "Sale",
		Headers: []delivery.Header{{Name: "List-Unsubscribe", Value: lu}, {Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Destination struct{ ToAddresses, BccAddresses []string }
		Content     struct {
			Simple struct {
				Headers []struct{ Name, Value string }
			}
		}
	}
	if err := json.Unmarshal(rec.bodies[len(rec.bodies)-1], &sent); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, h := range sent.Content.Simple.Headers {
		count[h.Name]++
	}
	if diff := cmp.Diff(map[string]int{"List-Unsubscribe": 1, "List-Unsubscribe-Post": 1}, count); diff != "" {
		t.Errorf("headers on the wire (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"archive@ses-headers.example"}, sent.Destination.BccAddresses); diff != "" {
		t.Errorf("BCC on the wire (-want +got):\n%s", diff)
	}
	emails, err := moto.SentEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range emails {
		if e.ID == id {
			if diff := cmp.Diff([]string{"archive@ses-headers.example"}, e.Destinations.Bcc); diff != "" {
				t.Errorf("moto's BCC (-want +got):\n%s", diff)
			}
			return
		}
	}
	t.Errorf("moto has no email %s", id)
}
