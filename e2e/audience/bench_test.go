package audience_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/sqs"
)

// BenchmarkFanOutMoto fans an audience of 100,000 members out against
// moto (DynamoDB Query pages, SQS SendMessageBatch) and reports members/s.
// It runs only with -bench: loading the audience alone takes moto about a
// minute.
func BenchmarkFanOutMoto(b *testing.B) {
	const members = 100_000
	m := newMarketing(b, nil)
	ctx := context.Background()
	store := cloud.App.Store()
	for start := 0; start < members; start += audience.MaxMembersPerCall {
		ms := make([]audience.Member, 0, audience.MaxMembersPerCall)
		for i := start; i < start+audience.MaxMembersPerCall; i++ {
			ms = append(ms, audience.Member{Namespace: "email", ID: fmt.Sprintf("p%06d@%s", i, m.Domain)})
		}
		if _, err := store.AddMembers(ctx, m.Tenant, m.audienceID, ms); err != nil {
			b.Fatal(err)
		}
	}
	client := awssqs.NewFromConfig(cloud.AWS)
	qo, err := client.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("bench-" + m.campaignID)})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		aud := cloud.App.AudienceExecutions()
		aud.Queue, aud.InlineBudget = sqs.New(client, aws.ToString(qo.QueueUrl)), time.Hour
		start := time.Now()
		resp, err := aud.Start(ctx, m.Tenant, "bench", execution.AudienceRequest{RequestID: fmt.Sprintf("bench-%d", i), CampaignID: m.campaignID})
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		st, err := aud.Status(ctx, m.Tenant, resp.(execution.Response).ExecutionID)
		if err != nil || st.TargetedProfileCount != members {
			b.Fatalf("targeted %d (%v), want %d", st.TargetedProfileCount, err, members)
		}
		b.ReportMetric(float64(members)/elapsed.Seconds(), "members/s")
		if _, err := client.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: qo.QueueUrl}); err != nil {
			b.Fatal(err)
		}
	}
}
