package localcloud

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
)

// Provisioned says what Provision found and what it created.
type Provisioned struct {
	// Found and Created list resources as "table herald-local-Table"
	// (kind, then physical name), in the order Provision went through them.
	Found, Created []string
}

// Provision creates the stack's tables, queues and schedule groups in the
// account awsCfg points at (moto), as CloudFormation would. It is
// idempotent against a running local cloud: every resource is looked up
// first and one that exists is kept as it is, with what it holds (items,
// messages, pending schedules). moto is not relied on to refuse a
// duplicate: its CreateScheduleGroup replaces an existing group and every
// schedule in it. An existing table only gets its time to live switched on
// and an existing queue its attributes updated when the template's differ
// (an earlier template).
func Provision(ctx context.Context, awsCfg aws.Config, s *Stack) error {
	_, err := provision(ctx, awsCfg, s)
	return err
}

func provision(ctx context.Context, awsCfg aws.Config, s *Stack) (Provisioned, error) {
	var p Provisioned
	note := func(created bool, kind, name string) {
		if created {
			p.Created = append(p.Created, kind+" "+name)
		} else {
			p.Found = append(p.Found, kind+" "+name)
		}
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	for _, t := range s.Tables {
		created, err := ensureTable(ctx, ddb, t)
		if err != nil {
			return p, fmt.Errorf("table %s: %w", t.LogicalID, err)
		}
		note(created, "table", t.Name)
	}
	q := sqs.NewFromConfig(awsCfg)
	for _, queue := range s.Queues {
		created, err := ensureQueue(ctx, q, queue)
		if err != nil {
			return p, fmt.Errorf("queue %s: %w", queue.LogicalID, err)
		}
		note(created, "queue", queue.Name)
	}
	sc := scheduler.NewFromConfig(awsCfg)
	for _, g := range s.ScheduleGroups {
		created, err := ensureScheduleGroup(ctx, sc, g)
		if err != nil {
			return p, fmt.Errorf("schedule group %s: %w", g, err)
		}
		note(created, "schedule group", g)
	}
	sm := secretsmanager.NewFromConfig(awsCfg)
	for _, name := range s.Secrets {
		created, err := ensureSecret(ctx, sm, name)
		if err != nil {
			return p, fmt.Errorf("secret %s: %w", name, err)
		}
		note(created, "secret", name)
	}
	return p, nil
}

// ensureSecret creates a secret with 64 random alphanumeric characters,
// as the template's GenerateSecretString does, unless it exists.
func ensureSecret(ctx context.Context, sm *secretsmanager.Client, name string) (bool, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var raw [64]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return false, err
	}
	for i, b := range raw {
		raw[i] = alphabet[int(b)%len(alphabet)]
	}
	_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(raw[:]))})
	var exists *smtypes.ResourceExistsException
	if errors.As(err, &exists) {
		return false, nil
	}
	return err == nil, err
}

// ensureScheduleGroup creates the group unless it exists. It must look
// first: moto's CreateScheduleGroup on an existing name replaces the group,
// deleting every schedule in it.
func ensureScheduleGroup(ctx context.Context, sc *scheduler.Client, name string) (bool, error) {
	_, err := sc.GetScheduleGroup(ctx, &scheduler.GetScheduleGroupInput{Name: aws.String(name)})
	var missing *schedtypes.ResourceNotFoundException
	switch {
	case err == nil:
		return false, nil
	case !errors.As(err, &missing):
		return false, fmt.Errorf("get: %w", err)
	}
	_, err = sc.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(name)})
	var exists *schedtypes.ConflictException
	if err != nil && !errors.As(err, &exists) {
		return false, fmt.Errorf("create: %w", err)
	}
	return err == nil, nil
}

// ensureTable creates the table unless it exists, then switches its time
// to live on if the template asks for it and it is off.
func ensureTable(ctx context.Context, ddb *dynamodb.Client, t *Table) (bool, error) {
	_, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)})
	var missing *ddbtypes.ResourceNotFoundException
	created := false
	switch {
	case err == nil:
	case errors.As(err, &missing):
		if created, err = createTable(ctx, ddb, t); err != nil {
			return false, err
		}
	default:
		return false, fmt.Errorf("describe: %w", err)
	}
	ttl := t.Def.TimeToLiveSpecification
	if ttl == nil || !ttl.Enabled || ttl.AttributeName == nil {
		return created, nil
	}
	cur, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(t.Name)})
	if err != nil {
		return false, fmt.Errorf("describe time to live: %w", err)
	}
	if d := cur.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == *ttl.AttributeName &&
		(d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling) {
		return created, nil
	}
	_, err = ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(t.Name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: ttl.AttributeName, Enabled: aws.Bool(true)},
	})
	if err != nil {
		return false, fmt.Errorf("time to live: %w", err)
	}
	return created, nil
}

func createTable(ctx context.Context, ddb *dynamodb.Client, t *Table) (bool, error) {
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
		// Created by someone else since DescribeTable: theirs is kept.
		var inUse *ddbtypes.ResourceInUseException
		if errors.As(err, &inUse) {
			return false, nil
		}
		return false, fmt.Errorf("create: %w", err)
	}
	return true, nil
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

// ensureQueue creates the queue unless it exists. An existing queue keeps
// its messages; its attributes are updated only where the template's
// differ from them (a queue made by an earlier template).
func ensureQueue(ctx context.Context, c *sqs.Client, q *Queue) (bool, error) {
	attrs := queueAttributes(q)
	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.Name)})
	var missing *sqstypes.QueueDoesNotExist
	switch {
	case err == nil:
		if u := aws.ToString(got.QueueUrl); u != q.URL {
			return false, fmt.Errorf("moto has the queue at %s, the stack expects %s", u, q.URL)
		}
		return false, updateQueue(ctx, c, q.URL, attrs)
	case !errors.As(err, &missing):
		return false, fmt.Errorf("get queue URL: %w", err)
	}
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.Name), Attributes: attrs})
	if err != nil {
		var exists *sqstypes.QueueNameExists
		if errors.As(err, &exists) { // created by someone else since GetQueueUrl
			return false, updateQueue(ctx, c, q.URL, attrs)
		}
		return false, fmt.Errorf("create: %w", err)
	}
	if got := aws.ToString(out.QueueUrl); got != q.URL {
		return false, fmt.Errorf("moto returned queue URL %s, the stack expected %s", got, q.URL)
	}
	return true, nil
}

// updateQueue sets the attributes of want that the queue does not have.
func updateQueue(ctx context.Context, c *sqs.Client, url string, want map[string]string) error {
	names := make([]sqstypes.QueueAttributeName, 0, len(want))
	for k := range want {
		names = append(names, sqstypes.QueueAttributeName(k))
	}
	cur, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		return fmt.Errorf("get attributes: %w", err)
	}
	diff := map[string]string{}
	for k, v := range want {
		if !sameAttribute(k, cur.Attributes[k], v) {
			diff[k] = v
		}
	}
	if len(diff) == 0 {
		return nil
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: diff}); err != nil {
		return fmt.Errorf("update attributes: %w", err)
	}
	return nil
}

// sameAttribute compares a queue attribute as SQS returns it with the one
// the template asks for; a redrive policy is compared as JSON, since SQS
// may write maxReceiveCount as a string.
func sameAttribute(name, got, want string) bool {
	if got == want {
		return true
	}
	if name != string(sqstypes.QueueAttributeNameRedrivePolicy) {
		return false
	}
	type policy struct {
		DeadLetterTargetArn string      `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.Number `json:"maxReceiveCount"`
	}
	var g, w policy
	if json.Unmarshal([]byte(unquoteNumbers(got)), &g) != nil || json.Unmarshal([]byte(want), &w) != nil {
		return false
	}
	return g == w
}

// unquoteNumbers turns "maxReceiveCount":"5" into "maxReceiveCount":5.
func unquoteNumbers(s string) string {
	return maxReceiveRe.ReplaceAllString(s, `"maxReceiveCount":$1`)
}

var maxReceiveRe = regexp.MustCompile(`"maxReceiveCount"\s*:\s*"(\d+)"`)

func queueAttributes(q *Queue) map[string]string {
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
	return attrs
}
