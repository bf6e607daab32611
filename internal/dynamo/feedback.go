package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ feedback.Store      = (*Store)(nil)
	_ status.ReportsStore = (*Store)(nil)
)

// RefIndex is the sparse index of ledger entries by the reference
// provider events name them by (the ref attribute), keys only.
const RefIndex = "ref"

// Report counter items. An execution's are in its partition (F#<shard>);
// a campaign's in T#<tenant>#REPORT#<campaignId>: A#<shard> all-time and
// H#<yyyymmddhh>#<shard> per hour, kept eight days. Each counter is an
// attribute n:<name> moved by ADD on one shard picked at random, so a hot
// campaign spreads its writes; a report sums the shards.
const (
	prefixFeedbackCount = "F#"
	kindReport          = "REPORT"
	prefixReportAll     = "A#"
	prefixReportHour    = "H#"
	kindSoftBounce      = "SOFTB"
	// ReportShards is how many items each counter is spread over.
	ReportShards = 8
	hourLayout   = "2006010215"
	hourlyKept   = 8 * 24 * time.Hour
)

// tenantOfPK reads the tenant back from a T#<org>#<sandbox>#… key (org and
// sandbox never hold '#').
func tenantOfPK(pk string) (tenant.Tenant, bool) {
	parts := strings.SplitN(strings.TrimPrefix(pk, "T#"), "#", 3)
	if len(parts) < 3 || !strings.HasPrefix(pk, "T#") {
		return tenant.Tenant{}, false
	}
	return tenant.Tenant{Org: parts[0], Sandbox: parts[1]}, true
}

// FindEntry implements feedback.Store: a Query of the ref index, then a
// consistent read of the entry.
func (s *Store) FindEntry(ctx context.Context, ref feedback.Ref) (tenant.Tenant, delivery.Entry, error) {
	if ref.Key() == "" {
		return tenant.Tenant{}, delivery.Entry{}, derrors.New(derrors.NotFound, "no reference")
	}
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(RefIndex),
		KeyConditionExpression:    aws.String("#ref = :ref"),
		ExpressionAttributeNames:  map[string]string{"#ref": "ref"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ref": strAttr(ref.Key())}, Limit: aws.Int32(1)})
	if err != nil {
		return tenant.Tenant{}, delivery.Entry{}, fmt.Errorf("find ledger entry: %w", err)
	}
	if len(out.Items) == 0 {
		return tenant.Tenant{}, delivery.Entry{}, derrors.New(derrors.NotFound, "no ledger entry for %s", ref)
	}
	pk, sk := str(out.Items[0], attrPK), str(out.Items[0], attrSK)
	t, ok := tenantOfPK(pk)
	if !ok {
		return tenant.Tenant{}, delivery.Entry{}, fmt.Errorf("find ledger entry: unexpected key %q", pk)
	}
	item, err := s.get(ctx, pk, sk, "ledger entry")
	if err != nil {
		return tenant.Tenant{}, delivery.Entry{}, err
	}
	e, err := decodeEntry(item)
	return t, e, err
}

// Entry implements feedback.Store.
func (s *Store) Entry(ctx context.Context, t tenant.Tenant, k delivery.Key) (delivery.Entry, error) {
	item, err := s.get(ctx, ledgerPK(t, k.ExecutionID), ledgerSK(k), "ledger entry")
	if err != nil {
		return delivery.Entry{}, err
	}
	return decodeEntry(item)
}

func numAttr(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// counterUpdate adds one to each counter of item k (SET expiresAt too when
// exp is set).
func (s *Store) counterUpdate(k map[string]types.AttributeValue, counters []string, exp time.Time) *types.Update {
	names := map[string]string{}
	values := map[string]types.AttributeValue{":one": numAttr(1)}
	adds := make([]string, len(counters))
	for i, c := range counters {
		n := "#c" + strconv.Itoa(i)
		names[n] = "n:" + c
		adds[i] = n + " :one"
	}
	expr := "ADD " + strings.Join(adds, ", ")
	if !exp.IsZero() {
		names["#exp"] = "expiresAt"
		values[":exp"] = numAttr(exp.Unix())
		expr = "SET #exp = :exp " + expr
	}
	return &types.Update{TableName: aws.String(s.table), Key: k, UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values}
}

func reportPK(t tenant.Tenant, campaignID string) string { return tenantPK(t, kindReport, campaignID) }

// Advance implements feedback.Store: the entry's update, the suppression,
// the report counters and the tenant's reputation counters (at most 6
// items) in one transaction, conditioned on the entry's
// feedback revision.
func (s *Store) Advance(ctx context.Context, t tenant.Tenant, c feedback.Change) error {
	e := c.Entry
	names := map[string]string{"#st": "state", "#ds": "deliveryState", "#ev": "events", "#rev": "fbrev"}
	values := map[string]types.AttributeValue{":done": strAttr(string(delivery.Done)), ":ds": strAttr(c.DeliveryState),
		":ev": &types.AttributeValueMemberSS{Value: c.Events}, ":rev": numAttr(int64(e.FeedbackRev + 1))}
	set := []string{"#ds = :ds", "#ev = :ev", "#rev = :rev"}
	cond := "#st = :done AND "
	if e.FeedbackRev == 0 {
		cond += "attribute_not_exists(#rev)"
	} else {
		cond += "#rev = :old"
		values[":old"] = numAttr(int64(e.FeedbackRev))
	}
	if c.Confirm {
		names["#oc"] = "outcome"
		values[":sent"], values[":was"] = strAttr(string(delivery.Sent)), strAttr(string(e.Outcome))
		set = append(set, "#oc = :sent")
		cond += " AND #oc = :was"
	}
	items := []types.TransactWriteItem{{Update: &types.Update{TableName: aws.String(s.table), Key: entryKey(t, e),
		UpdateExpression: aws.String("SET " + strings.Join(set, ", ")), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values}}}
	if sp := c.Suppress; sp != nil {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table),
			Key: key(suppressionPK(t), suppressionSK(sp.Channel, sp.Address)),
			UpdateExpression: aws.String("SET #ch = if_not_exists(#ch, :ch), #ad = if_not_exists(#ad, :ad), " +
				"#re = if_not_exists(#re, :re), #ca = if_not_exists(#ca, :ca)"),
			ExpressionAttributeNames: map[string]string{"#ch": "channel", "#ad": "address", "#re": "reason", "#ca": "createdAt"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":ch": strAttr(string(sp.Channel)), ":ad": strAttr(sp.Address),
				":re": strAttr(string(sp.Reason)), ":ca": strAttr(sp.CreatedAt.UTC().Format(time.RFC3339Nano))}}})
	}
	if len(c.Reputation) > 0 {
		items = append(items, types.TransactWriteItem{Update: s.reputationUpdate(t, e.Channel, c.Reputation, c.At, rand.IntN(ReportShards))})
	}
	if len(c.Counters) > 0 {
		shard := rand.IntN(ReportShards)
		at := c.At.UTC()
		items = append(items,
			types.TransactWriteItem{Update: s.counterUpdate(key(ledgerPK(t, e.ExecutionID), fmt.Sprintf("%s%02d", prefixFeedbackCount, shard)), c.Counters, expiry(s.retention.Counters, time.Time{}))},
			types.TransactWriteItem{Update: s.counterUpdate(key(reportPK(t, e.CampaignID), fmt.Sprintf("%s%02d", prefixReportAll, shard)), c.Counters, time.Time{})},
			types.TransactWriteItem{Update: s.counterUpdate(key(reportPK(t, e.CampaignID),
				fmt.Sprintf("%s%s#%02d", prefixReportHour, at.Format(hourLayout), shard)), c.Counters, at.Truncate(time.Hour).Add(hourlyKept))})
	}
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && (isTxConditionFailed(err) || txConflict(tce)) {
		return derrors.New(derrors.Conflict, "the entry changed")
	}
	return fmt.Errorf("record feedback: %w", err)
}

func txConflict(tce *types.TransactionCanceledException) bool {
	for _, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "TransactionConflict" {
			return true
		}
	}
	return false
}

// CountSoftBounce implements feedback.Store: one counter item per address
// and window, expiring after it.
func (s *Store) CountSoftBounce(ctx context.Context, t tenant.Tenant, ch suppression.Channel, addr string, window time.Time) (int, error) {
	k := key(tenantPK(t, kindSoftBounce, string(ch)), addr+"#"+strconv.FormatInt(window.Unix(), 10))
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: k,
		UpdateExpression:          aws.String("SET expiresAt = if_not_exists(expiresAt, :exp) ADD n :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": numAttr(1), ":exp": numAttr(window.Add(31 * 24 * time.Hour).Unix())},
		ReturnValues:              types.ReturnValueUpdatedNew})
	if err != nil {
		return 0, fmt.Errorf("count transient bounce: %w", err)
	}
	n, _ := strconv.Atoi(num(out.Attributes, "n"))
	return n, nil
}

func num(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

// addCounters adds item's n:<name> counters into into.
func addCounters(item map[string]types.AttributeValue, into map[string]int64) error {
	for name, v := range item {
		c, ok := strings.CutPrefix(name, "n:")
		n, isNum := v.(*types.AttributeValueMemberN)
		if !ok || !isNum {
			continue
		}
		x, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return fmt.Errorf("decode counter %s: %w", name, err)
		}
		into[c] += x
	}
	return nil
}

// ExecutionFeedback implements status.ReportsStore.
func (s *Store) ExecutionFeedback(ctx context.Context, t tenant.Tenant, exec string) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.queryAll(ctx, ledgerPK(t, exec), prefixFeedbackCount, func(item map[string]types.AttributeValue) error {
		return addCounters(item, out)
	})
	if err != nil {
		return nil, fmt.Errorf("read feedback counters: %w", err)
	}
	return out, nil
}

// CampaignFeedback implements status.ReportsStore.
func (s *Store) CampaignFeedback(ctx context.Context, t tenant.Tenant, campaignID string, since time.Time) (map[string]int64, map[time.Time]map[string]int64, error) {
	total := map[string]int64{}
	hours := map[time.Time]map[string]int64{}
	pk := reportPK(t, campaignID)
	err := s.queryAll(ctx, pk, prefixReportAll, func(item map[string]types.AttributeValue) error { return addCounters(item, total) })
	if err == nil {
		err = s.hourItems(ctx, pk, since, func(at time.Time, item map[string]types.AttributeValue) error {
			if hours[at] == nil {
				hours[at] = map[string]int64{}
			}
			return addCounters(item, hours[at])
		})
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read report counters: %w", err)
	}
	return total, hours, nil
}

// ExecutionRequestID implements feedback.RequestIDs: the execution item's
// requestId (unitary and audience executions both keep it).
func (s *Store) ExecutionRequestID(ctx context.Context, t tenant.Tenant, exec string) (string, error) {
	if !keyFits(ledgerPK(t, exec), skExecution) {
		return "", derrors.New(derrors.NotFound, "execution not found")
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(ledgerPK(t, exec), skExecution),
		ProjectionExpression: aws.String("requestId")})
	if err != nil {
		return "", fmt.Errorf("read execution: %w", err)
	}
	if out.Item == nil {
		return "", derrors.New(derrors.NotFound, "execution not found")
	}
	return str(out.Item, "requestId"), nil
}

// hourItems reads the hourly counter items of pk from since on: a Query of
// the sort-key range, not of every hour kept.
func (s *Store) hourItems(ctx context.Context, pk string, since time.Time, fn func(time.Time, map[string]types.AttributeValue) error) error {
	in := &dynamodb.QueryInput{TableName: aws.String(s.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#sk": attrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": strAttr(pk),
			":from": strAttr(prefixReportHour + since.UTC().Format(hourLayout)), ":to": strAttr(prefixReportHour + "~")}}
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			h, _, _ := strings.Cut(strings.TrimPrefix(str(item, attrSK), prefixReportHour), "#")
			at, err := time.Parse(hourLayout, h)
			if err != nil || at.Before(since) {
				continue
			}
			if err := fn(at, item); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
