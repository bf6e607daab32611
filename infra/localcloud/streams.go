package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/heraldhq/herald/internal/logsafe"
)

// StreamHandler is a function behind a DynamoDB stream event source.
type StreamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// DynamoDBSource is a DynamoDB stream event source of a function.
type DynamoDBSource struct {
	// TableARN is the table whose stream it reads (the template's
	// Fn::GetAtt <table>.StreamArn).
	TableARN                string
	BatchSize               int
	StartingPosition        string
	ReportBatchItemFailures bool
	MaximumRetryAttempts    int
	// Filters are FilterCriteria patterns: a record reaches the function
	// when one matches (none: every record).
	Filters []map[string]any
}

// StreamPoller is Lambda's DynamoDB stream event source mapping for one
// function, over moto's DynamoDB Streams: it reads each shard in order,
// up to 1,000 records a call, hands the records the filters keep to the
// handler BatchSize at a time, and moves on past what succeeded. A batch item failure restarts the shard at the
// record reported (AT_SEQUENCE_NUMBER), as Lambda does; a batch failing
// MaximumRetryAttempts times is logged and skipped (Lambda would send its
// metadata to the on-failure destination).
type StreamPoller struct {
	Function string
	Table    *Table
	Source   DynamoDBSource
	Timeout  time.Duration

	ddb     *dynamodb.Client
	streams *dynamodbstreams.Client
	handler StreamHandler
	region  string
	log     *slog.Logger

	mu        sync.Mutex
	streamARN string
	iters     map[string]string // shard id → next iterator
	attempts  map[string]int    // shard id → failed attempts of its current batch
}

// NewStreamPoller returns a poller of the table's stream for the
// function's handler.
func NewStreamPoller(ddb *dynamodb.Client, streams *dynamodbstreams.Client, s *Stack, f *Function, src DynamoDBSource, h StreamHandler, log *slog.Logger) (*StreamPoller, error) {
	t := s.TableByARN(src.TableARN)
	if t == nil {
		return nil, fmt.Errorf("%s: table %s is not in the stack", f.LogicalID, src.TableARN)
	}
	if h == nil {
		return nil, fmt.Errorf("%s: no DynamoDB stream handler", f.LogicalID)
	}
	return &StreamPoller{Function: f.LogicalID, Table: t, Source: src, Timeout: f.Timeout, ddb: ddb, streams: streams, handler: h,
		region: s.Region, log: log.With("function", f.LogicalID, "table", t.LogicalID), iters: map[string]string{}, attempts: map[string]int{}}, nil
}

// Run polls until ctx is done, every interval.
func (p *StreamPoller) Run(ctx context.Context, interval time.Duration) {
	for ctx.Err() == nil {
		n, err := p.Poll(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.ErrorContext(ctx, "stream poll failed", logsafe.Attr(err))
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(interval):
			}
		}
	}
}

// Drain reads the stream until no shard has a record left: for tests that
// must see every consequence of a write.
func (p *StreamPoller) Drain(ctx context.Context) error {
	_, err := p.drain(ctx)
	return err
}

func (p *StreamPoller) drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := p.Poll(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Poll reads one batch of every shard and invokes the handler with the
// records the filters keep. It returns how many records it read.
func (p *StreamPoller) Poll(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.streamARN == "" {
		out, err := p.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.Table.Name)})
		if err != nil {
			return 0, fmt.Errorf("describe table: %w", err)
		}
		if out.Table.LatestStreamArn == nil {
			return 0, fmt.Errorf("table %s has no stream: its StreamSpecification did not reach moto", p.Table.Name)
		}
		p.streamARN = *out.Table.LatestStreamArn
	}
	desc, err := p.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(p.streamARN)})
	if err != nil {
		return 0, fmt.Errorf("describe stream: %w", err)
	}
	total := 0
	for _, sh := range desc.StreamDescription.Shards {
		n, err := p.pollShard(ctx, aws.ToString(sh.ShardId))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (p *StreamPoller) iterator(ctx context.Context, shard string, typ streamtypes.ShardIteratorType, seq string) (string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.streamARN), ShardId: aws.String(shard), ShardIteratorType: typ}
	if seq != "" {
		in.SequenceNumber = aws.String(seq)
	}
	out, err := p.streams.GetShardIterator(ctx, in)
	if err != nil {
		return "", fmt.Errorf("shard iterator: %w", err)
	}
	return aws.ToString(out.ShardIterator), nil
}

func (p *StreamPoller) pollShard(ctx context.Context, shard string) (int, error) {
	it, ok := p.iters[shard]
	if !ok {
		typ := streamtypes.ShardIteratorTypeTrimHorizon
		if p.Source.StartingPosition == "LATEST" {
			typ = streamtypes.ShardIteratorTypeLatest
		}
		var err error
		if it, err = p.iterator(ctx, shard, typ, ""); err != nil {
			return 0, err
		}
	}
	// Lambda reads a shard up to 1,000 records at a time (GetRecords'
	// limit), filters them, and hands the rest over BatchSize at a time.
	out, err := p.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(1000)})
	if err != nil {
		return 0, fmt.Errorf("get records: %w", err)
	}
	next := aws.ToString(out.NextShardIterator)
	var kept []events.DynamoDBEventRecord
	for _, r := range out.Records {
		if rec := p.record(r); p.keeps(rec) {
			kept = append(kept, rec)
		}
	}
	size := max(p.Source.BatchSize, 1)
	for len(kept) > 0 {
		ev := events.DynamoDBEvent{Records: kept[:min(size, len(kept))]}
		kept = kept[len(ev.Records):]
		failedAt := p.invokeBatch(ctx, ev)
		if failedAt == "" {
			p.attempts[shard] = 0
			continue
		}
		p.attempts[shard]++
		if p.attempts[shard] > max(p.Source.MaximumRetryAttempts, 0) {
			p.log.ErrorContext(ctx, "stream batch failed every retry; skipped (Lambda sends it to the on-failure destination)",
				"records", len(ev.Records), "sequenceNumber", failedAt)
			p.attempts[shard] = 0
			continue
		}
		// Read again from the record that failed.
		if p.iters[shard], err = p.iterator(ctx, shard, streamtypes.ShardIteratorTypeAtSequenceNumber, failedAt); err != nil {
			delete(p.iters, shard)
			return len(out.Records), err
		}
		return len(out.Records), nil
	}
	p.iters[shard] = next
	return len(out.Records), nil
}

// invokeBatch runs the handler on one batch and returns the sequence
// number to read again from ("" when the batch succeeded).
func (p *StreamPoller) invokeBatch(ctx context.Context, ev events.DynamoDBEvent) string {
	hctx, cancel := context.WithTimeout(ctx, p.Timeout)
	resp, err := p.invoke(hctx, ev)
	cancel()
	switch {
	case err != nil:
		p.log.ErrorContext(ctx, "function failed; the batch will be retried", "records", len(ev.Records), logsafe.Attr(err))
		return ev.Records[0].Change.SequenceNumber
	case p.Source.ReportBatchItemFailures && len(resp.BatchItemFailures) > 0:
		// Lambda retries from the lowest sequence number reported.
		first := ""
		for _, f := range resp.BatchItemFailures {
			for _, r := range ev.Records {
				if r.Change.SequenceNumber == f.ItemIdentifier && (first == "" || seqBefore(f.ItemIdentifier, first)) {
					first = f.ItemIdentifier
				}
			}
		}
		if first == "" { // an identifier not in the batch fails the whole batch
			first = ev.Records[0].Change.SequenceNumber
		}
		return first
	}
	p.log.InfoContext(ctx, "stream batch processed", "records", len(ev.Records))
	return ""
}

// seqBefore orders sequence numbers (decimal strings).
func seqBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// invoke runs the handler, turning a panic into an error as the Lambda
// runtime reports one.
func (p *StreamPoller) invoke(ctx context.Context, ev events.DynamoDBEvent) (resp events.DynamoDBEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return p.handler(ctx, ev)
}

// record builds a record as Lambda's DynamoDB event source does.
func (p *StreamPoller) record(r streamtypes.Record) events.DynamoDBEventRecord {
	rec := events.DynamoDBEventRecord{AWSRegion: p.region, EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
		EventSource: "aws:dynamodb", EventVersion: aws.ToString(r.EventVersion), EventSourceArn: p.streamARN}
	if d := r.Dynamodb; d != nil {
		rec.Change = events.DynamoDBStreamRecord{Keys: lambdaImage(d.Keys), NewImage: lambdaImage(d.NewImage), OldImage: lambdaImage(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber), SizeBytes: aws.ToInt64(d.SizeBytes), StreamViewType: string(d.StreamViewType)}
		if d.ApproximateCreationDateTime != nil {
			rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return rec
}

func lambdaImage(image map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if image == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(image))
	for k, v := range image {
		out[k] = lambdaValue(v)
	}
	return out
}

func lambdaValue(v streamtypes.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *streamtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *streamtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *streamtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *streamtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *streamtypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, x := range v.Value {
			l[i] = lambdaValue(x)
		}
		return events.NewListAttribute(l)
	case *streamtypes.AttributeValueMemberM:
		return events.NewMapAttribute(lambdaImage(v.Value))
	}
	return events.NewNullAttribute()
}

// keeps applies the filter criteria to the record in its JSON shape.
func (p *StreamPoller) keeps(rec events.DynamoDBEventRecord) bool {
	if len(p.Source.Filters) == 0 {
		return true
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return false
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return false
	}
	for _, f := range p.Source.Filters {
		if matchPattern(f, doc) {
			return true
		}
	}
	return false
}

// matchPattern is the part of Lambda's event filtering Herald's template
// uses: nested objects, and lists of values that match by equality or by
// {"prefix": …} and {"exists": …}. Anything else matches nothing.
func matchPattern(pattern map[string]any, doc map[string]any) bool {
	for k, want := range pattern {
		got, has := doc[k]
		switch want := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matchPattern(want, sub) {
				return false
			}
		case []any:
			if !matchValues(want, got, has) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func matchValues(want []any, got any, has bool) bool {
	for _, w := range want {
		switch w := w.(type) {
		case map[string]any:
			if prefix, ok := w["prefix"].(string); ok && len(w) == 1 {
				if s, isStr := got.(string); isStr && strings.HasPrefix(s, prefix) {
					return true
				}
			}
			if exists, ok := w["exists"].(bool); ok && len(w) == 1 && exists == has {
				return true
			}
		default:
			if has && fmt.Sprint(w) == fmt.Sprint(got) {
				return true
			}
		}
	}
	return false
}

// TableByARN returns the table with that ARN, or nil.
func (s *Stack) TableByARN(arn string) *Table {
	for _, t := range s.Tables {
		if t.ARN == arn {
			return t
		}
	}
	return nil
}
