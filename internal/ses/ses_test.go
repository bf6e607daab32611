package ses_test

import (
	"context"
	"os"
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
