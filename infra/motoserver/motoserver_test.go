package motoserver_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/infra/motoserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

func TestSentMessagesAreReadBackFromMoto(t *testing.T) {
	ctx := context.Background()
	srv := motoserver.Shared(t)
	if err := srv.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	ses := sesv2.NewFromConfig(srv.AWSConfig())
	if _, err := ses.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String("herald.example")}); err != nil {
		t.Fatalf("create identity: %v", err)
	}
	send := []struct {
		name string
		in   *sesv2.SendEmailInput
	}{
		{"html and text", &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("Herald Demo <demo@herald.example>"),
			Destination:      &sestypes.Destination{ToAddresses: []string{"jane@example.com"}, CcAddresses: []string{"cc@example.com"}},
			Content: &sestypes.EmailContent{Simple: &sestypes.Message{
				Subject: &sestypes.Content{Data: aws.String("Shipped")},
				Body: &sestypes.Body{
					Html: &sestypes.Content{Data: aws.String("<p>Hi Jane</p>")},
					Text: &sestypes.Content{Data: aws.String("Hi Jane")},
				},
			}},
		}},
		{"raw", &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("demo@herald.example"),
			Destination:      &sestypes.Destination{ToAddresses: []string{"joe@example.com"}},
			Content:          &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: []byte("Subject: raw\r\n\r\nbody")}},
		}},
	}
	for _, s := range send {
		if _, err := ses.SendEmail(ctx, s.in); err != nil {
			t.Fatalf("send %s: %v", s.name, err)
		}
	}
	if _, err := sns.NewFromConfig(srv.AWSConfig()).Publish(ctx, &sns.PublishInput{
		PhoneNumber: aws.String("+15555550100"), Message: aws.String("code 123456"),
	}); err != nil {
		t.Fatalf("publish sms: %v", err)
	}

	emails, err := srv.SentEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantEmails := []motoserver.Email{{
		Source:       "Herald Demo <demo@herald.example>",
		Destinations: motoserver.EmailDestinations{To: []string{"jane@example.com"}, Cc: []string{"cc@example.com"}},
		Subject:      "Shipped",
		Body:         "<p>Hi Jane</p>",
	}}
	if diff := cmp.Diff(wantEmails, emails, cmpopts.IgnoreFields(motoserver.Email{}, "ID")); diff != "" {
		t.Errorf("SentEmails (-want +got):\n%s", diff)
	}

	raw, err := srv.SentRawEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 1 || raw[0].Source != "demo@herald.example" || raw[0].RawData != "Subject: raw\r\n\r\nbody" {
		t.Errorf("SentRawEmails = %+v, want the one raw message", raw)
	}

	sms, err := srv.SentSMS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]motoserver.SMS{{PhoneNumber: "+15555550100", Message: "code 123456"}}, sms,
		cmpopts.IgnoreFields(motoserver.SMS{}, "MessageID")); diff != "" {
		t.Errorf("SentSMS (-want +got):\n%s", diff)
	}

	if err := srv.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if emails, err := srv.SentEmails(ctx); err != nil || len(emails) != 0 {
		t.Errorf("after Reset: SentEmails = %v, %v; want none", emails, err)
	}
}

func TestStartAndClose(t *testing.T) {
	ctx := context.Background()
	srv, err := motoserver.Start(ctx, motoserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Ping(ctx); err != nil {
		t.Fatalf("Ping after Start: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded; want the server gone")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStartWithoutMotoExplainsHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := motoserver.Start(context.Background(), motoserver.Options{})
	if err == nil || err.Error() != motoserver.InstallHint {
		t.Errorf("Start without moto_server = %v, want %q", err, motoserver.InstallHint)
	}
}

func TestConnectedServerIsNotStoppedByClose(t *testing.T) {
	ctx := context.Background()
	srv := motoserver.Connect(motoserver.Shared(t).URL() + "/")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Ping(ctx); err != nil {
		t.Errorf("Ping after Close of a connected server: %v", err)
	}
}

// TestAFailedTransactionLeavesEveryItemAsItWas checks the launcher's
// rollback of TransactWriteItems (it saves the items a transaction writes
// instead of copying whole tables).
func TestAFailedTransactionLeavesEveryItemAsItWas(t *testing.T) {
	moto := motoserver.Shared(t)
	ctx := context.Background()
	api := dynamodb.NewFromConfig(moto.AWSConfig())
	table := fmt.Sprintf("tx-%d", time.Now().UnixNano())
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS}}})
	if err != nil {
		t.Fatal(err)
	}
	item := func(pk, sk, v string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: sk},
			"v": &ddbtypes.AttributeValueMemberS{Value: v}}
	}
	for _, it := range []map[string]ddbtypes.AttributeValue{item("a", "1", "old"), item("c", "1", "taken")} {
		if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String(table), Item: item("b", "1", "new")}},
		{Put: &ddbtypes.Put{TableName: aws.String(table), Item: item("a", "1", "changed")}},
		{Put: &ddbtypes.Put{TableName: aws.String(table), Item: item("c", "1", "mine"), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	var tce *ddbtypes.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("TransactWriteItems = %v, want TransactionCanceledException", err)
	}
	got := map[string]string{}
	out, err := api.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		got[it["pk"].(*ddbtypes.AttributeValueMemberS).Value] = it["v"].(*ddbtypes.AttributeValueMemberS).Value
	}
	if diff := cmp.Diff(map[string]string{"a": "old", "c": "taken"}, got); diff != "" {
		t.Errorf("items after a failed transaction (-want +got):\n%s", diff)
	}
	// And a transaction that succeeds writes everything.
	if _, err := api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String(table), Item: item("b", "1", "new")}},
		{Put: &ddbtypes.Put{TableName: aws.String(table), Item: item("a", "1", "changed")}},
	}}); err != nil {
		t.Fatal(err)
	}
	if out, err = api.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)}); err != nil || len(out.Items) != 3 {
		t.Errorf("Scan after a transaction = %d items, %v; want 3", len(out.Items), err)
	}
}
