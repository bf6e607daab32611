package localcloud

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
)

// Provision creates the stack's tables and queues in the account awsCfg
// points at (moto), as CloudFormation would. It is idempotent: existing
// tables are left alone (TTL is still switched on) and queues are created
// with CreateQueue, which returns an existing queue of the same name.
func Provision(ctx context.Context, awsCfg aws.Config, s *Stack) error {
	ddb := dynamodb.NewFromConfig(awsCfg)
	for _, t := range s.Tables {
		if err := createTable(ctx, ddb, t); err != nil {
			return fmt.Errorf("create table %s: %w", t.LogicalID, err)
		}
	}
	q := sqs.NewFromConfig(awsCfg)
	for _, queue := range s.Queues {
		if err := createQueue(ctx, q, queue); err != nil {
			return fmt.Errorf("create queue %s: %w", queue.LogicalID, err)
		}
	}
	sc := scheduler.NewFromConfig(awsCfg)
	for _, g := range s.ScheduleGroups {
		_, err := sc.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(g)})
		var exists *schedtypes.ConflictException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create schedule group %s: %w", g, err)
		}
	}
	return nil
}

func createTable(ctx context.Context, ddb *dynamodb.Client, t *Table) error {
	d := t.Def
	in := &dynamodb.CreateTableInput{TableName: aws.String(t.Name), KeySchema: keySchema(d.KeySchema)}
	for _, a := range d.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType),
		})
	}
	provisioned := d.BillingMode == nil || *d.BillingMode == "PROVISIONED"
	if provisioned {
		in.BillingMode = ddbtypes.BillingModeProvisioned
		in.ProvisionedThroughput = throughput(d.ProvisionedThroughput)
	} else {
		in.BillingMode = ddbtypes.BillingModePayPerRequest
	}
	for _, g := range d.GlobalSecondaryIndexes {
		gsi := ddbtypes.GlobalSecondaryIndex{IndexName: aws.String(g.IndexName), KeySchema: keySchema(g.KeySchema), Projection: projection(g.Projection)}
		if provisioned {
			gsi.ProvisionedThroughput = throughput(g.ProvisionedThroughput)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	for _, l := range d.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName: aws.String(l.IndexName), KeySchema: keySchema(l.KeySchema), Projection: projection(l.Projection),
		})
	}
	if st := d.StreamSpecification; st != nil {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(st.StreamViewType)}
	}
	if _, err := ddb.CreateTable(ctx, in); err != nil {
		var inUse *ddbtypes.ResourceInUseException
		if !errors.As(err, &inUse) {
			return err
		}
	}
	if ttl := d.TimeToLiveSpecification; ttl != nil && ttl.Enabled && ttl.AttributeName != nil {
		_, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(t.Name),
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: ttl.AttributeName, Enabled: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("time to live: %w", err)
		}
	}
	return nil
}

func keySchema(ks []cfndynamodb.Table_KeySchema) []ddbtypes.KeySchemaElement {
	var out []ddbtypes.KeySchemaElement
	for _, k := range ks {
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
	}
	return out
}

func projection(p *cfndynamodb.Table_Projection) *ddbtypes.Projection {
	if p == nil {
		return &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}
	}
	out := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll, NonKeyAttributes: p.NonKeyAttributes}
	if p.ProjectionType != nil {
		out.ProjectionType = ddbtypes.ProjectionType(*p.ProjectionType)
	}
	return out
}

func throughput(p *cfndynamodb.Table_ProvisionedThroughput) *ddbtypes.ProvisionedThroughput {
	if p == nil {
		return &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}
	}
	return &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(int64(p.ReadCapacityUnits)), WriteCapacityUnits: aws.Int64(int64(p.WriteCapacityUnits))}
}

func createQueue(ctx context.Context, c *sqs.Client, q *Queue) error {
	d := q.Def
	attrs := map[string]string{}
	setInt := func(name sqstypes.QueueAttributeName, v *int) {
		if v != nil {
			attrs[string(name)] = strconv.Itoa(*v)
		}
	}
	setInt(sqstypes.QueueAttributeNameVisibilityTimeout, d.VisibilityTimeout)
	setInt(sqstypes.QueueAttributeNameMessageRetentionPeriod, d.MessageRetentionPeriod)
	setInt(sqstypes.QueueAttributeNameDelaySeconds, d.DelaySeconds)
	setInt(sqstypes.QueueAttributeNameMaximumMessageSize, d.MaximumMessageSize)
	setInt(sqstypes.QueueAttributeNameReceiveMessageWaitTimeSeconds, d.ReceiveMessageWaitTimeSeconds)
	if d.FifoQueue != nil && *d.FifoQueue {
		attrs[string(sqstypes.QueueAttributeNameFifoQueue)] = "true"
	}
	if q.DeadLetterARN != "" {
		attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, q.DeadLetterARN, q.MaxReceiveCount)
	}
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.Name), Attributes: attrs})
	if err != nil {
		var exists *sqstypes.QueueNameExists
		if !errors.As(err, &exists) {
			return err
		}
		// Same name, other attributes: an earlier template. Update it.
		if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q.URL), Attributes: attrs}); err != nil {
			return fmt.Errorf("update attributes: %w", err)
		}
		return nil
	}
	if got := aws.ToString(out.QueueUrl); got != q.URL {
		return fmt.Errorf("moto returned queue URL %s, the stack expected %s", got, q.URL)
	}
	return nil
}
