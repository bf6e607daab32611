package dynamo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tally"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ tally.Store = (*Store)(nil)

// Campaign send counts, kept by the Reports function from the stream of
// execution counter items (T#<shard> in an execution's partition): in the
// campaign report items beside the feedback counters (A#<shard>,
// H#<yyyymmddhh>#<shard>), as o:<outcome> and targeted. Each stream
// record applied leaves a marker S#<event id> in the execution's
// partition, written in the same transaction, so a record Lambda delivers
// again is not counted twice; markers expire after markerKept, longer
// than the stream keeps a record (24 hours).
const (
	prefixOutcome   = "o:"
	attrTargeted    = "targeted"
	prefixApplied   = "S#"
	markerKept      = 48 * time.Hour
	recipientPrefix = "r:"
	countPrefix     = "n:"
)

// ExecutionCampaign implements tally.Store: the execution item's
// campaignId (unitary, proof and audience executions all keep it).
func (s *Store) ExecutionCampaign(ctx context.Context, t tenant.Tenant, exec string) (string, error) {
	if !keyFits(ledgerPK(t, exec), skExecution) {
		return "", derrors.New(derrors.NotFound, "execution not found")
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(ledgerPK(t, exec), skExecution),
		ProjectionExpression: aws.String("campaignId")})
	if err != nil {
		return "", fmt.Errorf("read execution: %w", err)
	}
	if out.Item == nil || str(out.Item, "campaignId") == "" {
		return "", derrors.New(derrors.NotFound, "execution not found")
	}
	return str(out.Item, "campaignId"), nil
}

// outcomeUpdate adds d to the counters of item k (SET expiresAt too when
// exp is set).
func (s *Store) outcomeUpdate(k map[string]types.AttributeValue, d tally.Delta, exp time.Time) *types.Update {
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var adds []string
	add := func(attr string, n int64) {
		i := strconv.Itoa(len(adds))
		names["#o"+i], values[":o"+i] = attr, numAttr(n)
		adds = append(adds, "#o"+i+" :o"+i)
	}
	if d.Targeted != 0 {
		add(attrTargeted, d.Targeted)
	}
	for o, n := range d.Outcomes {
		add(prefixOutcome+o, n)
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

// AddOutcomes implements tally.Store: a marker per change (a put
// conditioned on its absence) and the ADDs on one all-time and one hourly
// shard of the campaign, in one transaction (tally.MaxMarks changes at
// most).
func (s *Store) AddOutcomes(ctx context.Context, t tenant.Tenant, campaignID string, at time.Time, marks []tally.Mark, d tally.Delta) error {
	if len(marks) > tally.MaxMarks {
		return fmt.Errorf("add campaign counts: %d changes, at most %d", len(marks), tally.MaxMarks)
	}
	items := make([]types.TransactWriteItem, 0, len(marks)+2)
	for _, m := range marks {
		marker := key(ledgerPK(t, m.ExecutionID), prefixApplied+m.ID)
		marker["expiresAt"] = numAttr(at.Add(markerKept).Unix())
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: marker,
			ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	if !d.Zero() {
		shard := rand.IntN(ReportShards)
		at = at.UTC()
		pk := reportPK(t, campaignID)
		items = append(items,
			types.TransactWriteItem{Update: s.outcomeUpdate(key(pk, fmt.Sprintf("%s%02d", prefixReportAll, shard)), d, time.Time{})},
			types.TransactWriteItem{Update: s.outcomeUpdate(key(pk, fmt.Sprintf("%s%s#%02d", prefixReportHour, at.Format(hourLayout), shard)), d,
				at.Truncate(time.Hour).Add(hourlyKept))})
	}
	if len(items) == 0 {
		return nil
	}
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if isTxConditionFailed(err) {
		return derrors.New(derrors.Conflict, "a change was added before")
	}
	if err != nil {
		return fmt.Errorf("add campaign counts: %w", err)
	}
	return nil
}

// addOutcomes adds item's campaign send counts into into.
func addOutcomes(item map[string]types.AttributeValue, into *tally.Delta) error {
	for name, v := range item {
		n, isNum := v.(*types.AttributeValueMemberN)
		if !isNum {
			continue
		}
		o, isOutcome := strings.CutPrefix(name, prefixOutcome)
		if !isOutcome && name != attrTargeted {
			continue
		}
		x, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return fmt.Errorf("decode counter %s: %w", name, err)
		}
		if !isOutcome {
			into.Targeted += x
			continue
		}
		if x == 0 {
			continue
		}
		if into.Outcomes == nil {
			into.Outcomes = map[string]int64{}
		}
		into.Outcomes[o] += x
	}
	return nil
}

// CampaignOutcomes implements status.ReportsStore: the campaign's send
// counts, all-time and of each hour from since on (hours that counted
// nothing left out).
func (s *Store) CampaignOutcomes(ctx context.Context, t tenant.Tenant, campaignID string, since time.Time) (tally.Delta, map[time.Time]tally.Delta, error) {
	var total tally.Delta
	hours := map[time.Time]tally.Delta{}
	pk := reportPK(t, campaignID)
	err := s.queryAll(ctx, pk, prefixReportAll, func(item map[string]types.AttributeValue) error { return addOutcomes(item, &total) })
	if err == nil {
		err = s.hourItems(ctx, pk, since, func(at time.Time, item map[string]types.AttributeValue) error {
			h := hours[at]
			if err := addOutcomes(item, &h); err != nil {
				return err
			}
			hours[at] = h
			return nil
		})
	}
	if err != nil {
		return tally.Delta{}, nil, fmt.Errorf("read campaign counts: %w", err)
	}
	for at, h := range hours {
		if h.Zero() {
			delete(hours, at)
		}
	}
	return total, hours, nil
}

// TallyChange decodes a stream record of the table into a counter
// change: false if the record is not of an execution counter item (the
// Reports function's filter keeps only those, but a record is checked
// regardless).
func TallyChange(id string, at time.Time, keys, oldImage, newImage map[string]types.AttributeValue) (tally.Change, bool, error) {
	pk, sk := str(keys, attrPK), str(keys, attrSK)
	t, ok := tenantOfPK(pk)
	exec, isExec := strings.CutPrefix(pk, tenantPK(t, skExecution, ""))
	if !ok || !isExec || exec == "" || !strings.HasPrefix(sk, prefixTally) {
		return tally.Change{}, false, nil
	}
	old, err := tallyCounts(oldImage)
	if err != nil {
		return tally.Change{}, false, err
	}
	cur, err := tallyCounts(newImage)
	if err != nil {
		return tally.Change{}, false, err
	}
	return tally.Change{ID: id, Tenant: t, ExecutionID: exec, At: at, Old: old, New: cur}, true, nil
}

// tallyCounts reads a counter item's recipients (r:<tag>) and counts
// (n:<outcome>); a missing image is the zero Counts.
func tallyCounts(item map[string]types.AttributeValue) (tally.Counts, error) {
	c := tally.Counts{}
	for name, v := range item {
		if strings.HasPrefix(name, recipientPrefix) {
			c.Recipients++
			continue
		}
		o, ok := strings.CutPrefix(name, countPrefix)
		n, isNum := v.(*types.AttributeValueMemberN)
		if !ok || !isNum {
			continue
		}
		x, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return tally.Counts{}, fmt.Errorf("decode counter %s: %w", name, err)
		}
		if c.Outcomes == nil {
			c.Outcomes = map[string]int64{}
		}
		c.Outcomes[o] = x
	}
	return c, nil
}
