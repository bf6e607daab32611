package motoserver_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
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

// TestAQueryReadsItsPartitionAsMotoWould: the launcher's Query reads the
// partition alone; the answers — order both ways, key conditions, pages,
// filters, and index queries (which it leaves to moto) — are moto's.
func TestAQueryReadsItsPartitionAsMotoWould(t *testing.T) {
	moto := motoserver.Shared(t)
	ctx := context.Background()
	api := dynamodb.NewFromConfig(moto.AWSConfig())
	table := fmt.Sprintf("q-%d", time.Now().UnixNano())
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("g"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String("byG"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Three partitions of six items, written out of order; every other
	// item of every partition is in the index's "even" partition.
	for _, i := range []int{3, 0, 5, 1, 4, 2} {
		for _, pk := range []string{"b", "a", "c"} {
			item := map[string]ddbtypes.AttributeValue{"pk": s(pk), "sk": s(fmt.Sprintf("x#%d", i)), "n": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i)}}
			if i%2 == 0 {
				item["g"] = s("even")
			}
			if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
				t.Fatal(err)
			}
		}
	}
	query := func(in dynamodb.QueryInput) []string {
		t.Helper()
		in.TableName = aws.String(table)
		var got []string
		for {
			out, err := api.Query(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				got = append(got, it["pk"].(*ddbtypes.AttributeValueMemberS).Value+it["sk"].(*ddbtypes.AttributeValueMemberS).Value)
			}
			if out.LastEvaluatedKey == nil {
				return got
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	pkIs := func(v string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{":p": s(v)}
	}
	tests := []struct {
		name string
		in   dynamodb.QueryInput
		want []string
	}{
		{"a partition in order, two items a page", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pkIs("b"), Limit: aws.Int32(2)},
			[]string{"bx#0", "bx#1", "bx#2", "bx#3", "bx#4", "bx#5"}},
		{"backwards", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pkIs("a"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(4)},
			[]string{"ax#5", "ax#4", "ax#3", "ax#2", "ax#1", "ax#0"}},
		{"a sort key range and a filter", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk BETWEEN :lo AND :hi"), FilterExpression: aws.String("n <> :three"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": s("c"), ":lo": s("x#1"), ":hi": s("x#4"), ":three": &ddbtypes.AttributeValueMemberN{Value: "3"}}},
			[]string{"cx#1", "cx#2", "cx#4"}},
		{"an absent partition", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pkIs("z")}, nil},
		{"an index, across partitions", dynamodb.QueryInput{IndexName: aws.String("byG"), KeyConditionExpression: aws.String("g = :p"), ExpressionAttributeValues: pkIs("even")},
			[]string{"ax#0", "bx#0", "cx#0", "ax#2", "bx#2", "cx#2", "ax#4", "bx#4", "cx#4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := query(tt.in)
			if tt.in.IndexName != nil {
				// DynamoDB leaves the order of equal index sort keys open.
				slices.Sort(got)
				slices.Sort(tt.want)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
		})
	}
}
