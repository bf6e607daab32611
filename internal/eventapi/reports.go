package eventapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/tally"
)

// TallyDecoder turns a stream record of the table into an execution
// counter change, false when the record is of another item
// (dynamo.TallyChange).
type TallyDecoder func(id string, at time.Time, keys, oldImage, newImage map[string]types.AttributeValue) (tally.Change, bool, error)

// ReportsStream adapts tally.Service to the table's DynamoDB stream. The
// batch's counter changes are added together (one write per campaign and
// hour); the first change not added, or the first record that cannot be
// decoded, is reported by its sequence number, so Lambda retries the
// shard from there: what comes before it is not redone, and what is
// delivered again after it is recognised by its change id.
func ReportsStream(s *tally.Service, decode TallyDecoder, log *slog.Logger) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var (
			changes []tally.Change
			seqs    []string // of each change
			stopSeq string   // the record that could not be decoded
			stopErr error
		)
		for _, r := range ev.Records {
			c, ok, err := decode(r.EventID, r.Change.ApproximateCreationDateTime.UTC(), sdkImage(r.Change.Keys),
				sdkImage(r.Change.OldImage), sdkImage(r.Change.NewImage))
			if err != nil {
				stopSeq, stopErr = r.Change.SequenceNumber, err
				break
			}
			if ok {
				changes, seqs = append(changes, c), append(seqs, r.Change.SequenceNumber)
			}
		}
		done, err := s.Record(ctx, changes)
		var resp events.DynamoDBEventResponse
		switch {
		case err != nil:
			stopSeq, stopErr = seqs[done], err
		case stopErr != nil:
		default:
			log.InfoContext(ctx, "stream batch processed", "records", len(ev.Records), "changes", len(changes))
			return resp, nil
		}
		log.ErrorContext(ctx, "counter change not counted; the shard is retried from it", "sequenceNumber", stopSeq,
			"records", len(ev.Records), "changesDone", done, logsafe.Attr(stopErr))
		resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: stopSeq}}
		return resp, nil
	}
}

// sdkImage converts the string and number attributes of a stream image
// (all a counter item holds) to the SDK's attribute values.
func sdkImage(image map[string]events.DynamoDBAttributeValue) map[string]types.AttributeValue {
	if image == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(image))
	for name, v := range image {
		switch v.DataType() {
		case events.DataTypeString:
			out[name] = &types.AttributeValueMemberS{Value: v.String()}
		case events.DataTypeNumber:
			out[name] = &types.AttributeValueMemberN{Value: v.Number()}
		}
	}
	return out
}
