package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/reputation"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ reputation.Store = (*Store)(nil)
	_ delivery.Guards  = (*Store)(nil)
)

// Reputation items, in T#<tk>#REPUTATION#<channel>: H#<yyyymmddhh>#<shard>
// counter items (n:sends, n:bounces, n:complaints, moved by ADD in the
// feedback transaction, kept two days past their hour) and the guard
// (sk GUARD).
const (
	kindReputation   = "REPUTATION"
	skGuard          = "GUARD"
	reputationKept   = 48 * time.Hour
	prefixReputation = "H#"
)

func reputationPK(t tenant.Tenant, ch campaign.Channel) string {
	return tenantPK(t, kindReputation, string(ch))
}

// reputationUpdate adds c's reputation counters to a random shard of the
// hour of c.At.
func (s *Store) reputationUpdate(t tenant.Tenant, ch campaign.Channel, counters []string, at time.Time, shard int) *types.Update {
	at = at.UTC()
	return s.counterUpdate(key(reputationPK(t, ch), fmt.Sprintf("%s%s#%02d", prefixReputation, at.Format(hourLayout), shard)),
		counters, at.Truncate(time.Hour).Add(reputationKept))
}

// ReputationWindow implements reputation.Store: one Query of the
// channel's hour items from since on (24 hours × 8 shards at most).
func (s *Store) ReputationWindow(ctx context.Context, t tenant.Tenant, ch campaign.Channel, since time.Time) (reputation.Counts, error) {
	pk := reputationPK(t, ch)
	var c reputation.Counts
	var lastKey map[string]types.AttributeValue
	for {
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table),
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
			ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAttr(pk),
				":from": strAttr(prefixReputation + since.UTC().Format(hourLayout)), ":to": strAttr(prefixReputation + "~")},
			ExclusiveStartKey: lastKey})
		if err != nil {
			return reputation.Counts{}, fmt.Errorf("read reputation window: %w", err)
		}
		for _, item := range out.Items {
			n := map[string]int64{}
			if err := addCounters(item, n); err != nil {
				return reputation.Counts{}, err
			}
			c = c.Add(reputation.Counts{Sends: n[reputation.CountSends], Bounces: n[reputation.CountBounces], Complaints: n[reputation.CountComplaints]})
		}
		if len(out.LastEvaluatedKey) == 0 {
			return c, nil
		}
		lastKey = out.LastEvaluatedKey
	}
}

// guardItem is the stored guard.
type guardItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Channel     string `dynamodbav:"channel"`
	Paused      bool   `dynamodbav:"paused"`
	Since       string `dynamodbav:"since,omitempty"`
	Reason      string `dynamodbav:"reason,omitempty"`
	Sends       int64  `dynamodbav:"sends"`
	Bounces     int64  `dynamodbav:"bounces"`
	Complaints  int64  `dynamodbav:"complaints"`
	LiftedAt    string `dynamodbav:"liftedAt,omitempty"`
	BSends      int64  `dynamodbav:"baselineSends"`
	BBounces    int64  `dynamodbav:"baselineBounces"`
	BComplaints int64  `dynamodbav:"baselineComplaints"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// ReputationGuard implements reputation.Store and delivery.Guards: one
// consistent GetItem.
func (s *Store) ReputationGuard(ctx context.Context, t tenant.Tenant, ch campaign.Channel) (reputation.Guard, error) {
	item, err := s.get(ctx, reputationPK(t, ch), skGuard, "reputation guard")
	if derrors.Is(err, derrors.NotFound) {
		return reputation.Guard{Channel: ch}, nil
	}
	if err != nil {
		return reputation.Guard{}, err
	}
	var g guardItem
	if err := attributevalue.UnmarshalMap(item, &g); err != nil {
		return reputation.Guard{}, fmt.Errorf("decode reputation guard: %w", err)
	}
	return reputation.Guard{Channel: ch, Paused: g.Paused, Since: parseTime(g.Since), Reason: g.Reason,
		Counts:   reputation.Counts{Sends: g.Sends, Bounces: g.Bounces, Complaints: g.Complaints},
		LiftedAt: parseTime(g.LiftedAt), Baseline: reputation.Counts{Sends: g.BSends, Bounces: g.BBounces, Complaints: g.BComplaints}}, nil
}

// PauseReputation implements reputation.Store: an update conditioned on
// the guard not being paused, keeping its lift.
func (s *Store) PauseReputation(ctx context.Context, t tenant.Tenant, g reputation.Guard) (bool, error) {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(reputationPK(t, g.Channel), skGuard),
		UpdateExpression:    aws.String("SET #ch = :ch, #p = :t, #since = :since, #re = :re, #s = :s, #b = :b, #c = :c"),
		ConditionExpression: aws.String("attribute_not_exists(#p) OR #p = :f"),
		ExpressionAttributeNames: map[string]string{"#ch": "channel", "#p": "paused", "#since": "since", "#re": "reason",
			"#s": "sends", "#b": "bounces", "#c": "complaints"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ch": strAttr(string(g.Channel)),
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": &types.AttributeValueMemberBOOL{Value: false},
			":since": strAttr(formatTime(g.Since)), ":re": strAttr(g.Reason), ":s": numAttr(g.Counts.Sends),
			":b": numAttr(g.Counts.Bounces), ":c": numAttr(g.Counts.Complaints)}})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pause reputation: %w", err)
	}
	return true, nil
}

// LiftReputation implements reputation.Store: a put conditioned on the
// guard being paused.
func (s *Store) LiftReputation(ctx context.Context, t tenant.Tenant, ch campaign.Channel, at time.Time, baseline reputation.Counts) error {
	item, err := attributevalue.MarshalMap(guardItem{PK: reputationPK(t, ch), SK: skGuard, Channel: string(ch), LiftedAt: formatTime(at),
		BSends: baseline.Sends, BBounces: baseline.Bounces, BComplaints: baseline.Complaints})
	if err != nil {
		return fmt.Errorf("encode reputation guard: %w", err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("paused = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}})
	if isConditionFailed(err) {
		return derrors.New(derrors.NotFound, "the %s channel is not paused", strings.ToLower(string(ch)))
	}
	if err != nil {
		return fmt.Errorf("lift reputation: %w", err)
	}
	return nil
}
