package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/recurrence"
	"github.com/heraldhq/herald/internal/status"
	"github.com/heraldhq/herald/internal/tenant"
)

var (
	_ delivery.Ledger     = (*Store)(nil)
	_ delivery.Parking    = (*Store)(nil)
	_ delivery.ParkedJobs = (*Store)(nil)
	_ status.Store        = (*Store)(nil)
)

// Sort-key prefixes in an execution's partition (T#<tk>#EXEC#<id>):
//
//	R#<ns>#<userId>#<channel>[#<device>]  ledger entry (namespace and userId path-escaped, so no '#')
//	L#<channel>#<userId>[#<device>]       ledger entry of jobs queued before LedgerV2 (read, finished; never created)
//	D#<channel>#<address digest>          the recipient (its tag) that owns an address in the execution
//	T#<shard, 4 digits>                   counters: r:<tag> = outcome[|label], n:<outcome> = count, n:v:<label>#<outcome> per variant
//	K#<parked job id>                     a job parked after the dead-letter queue, or deferred by quiet hours (reason quiet_hours) until its schedule wakes it (GetItem)
const (
	prefixLedger       = "R#"
	prefixLegacyLedger = "L#"
	prefixAddress      = "D#"
	prefixTally        = "T#"
	prefixParked       = "K#"
)

type ledgerItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	ExecutionID string    `dynamodbav:"executionId"`
	Namespace   string    `dynamodbav:"namespace,omitempty"`
	UserID      string    `dynamodbav:"userId"`
	Channel     string    `dynamodbav:"channel"`
	Device      string    `dynamodbav:"device,omitempty"`
	CampaignID  string    `dynamodbav:"campaignId"`
	Version     int       `dynamodbav:"version"`
	Proof       bool      `dynamodbav:"proof,omitempty"`
	State       string    `dynamodbav:"state"`
	Outcome     string    `dynamodbav:"outcome,omitempty"`
	MessageID   string    `dynamodbav:"messageId,omitempty"`
	Variant     string    `dynamodbav:"variant,omitempty"`
	Treatment   string    `dynamodbav:"treatment,omitempty"`
	Token       string    `dynamodbav:"token"`
	InFlight    bool      `dynamodbav:"inflight"`
	Attempts    int       `dynamodbav:"attempts,omitempty"`
	AttemptAt   time.Time `dynamodbav:"attemptAt,omitempty"`
	LastCode    string    `dynamodbav:"lastCode,omitempty"`
	Tag         string    `dynamodbav:"tag,omitempty"`
	ClaimedAt   time.Time `dynamodbav:"claimedAt"`
	FinishedAt  time.Time `dynamodbav:"finishedAt,omitempty"`
	// Ref is what provider events name the entry by (the ref index):
	// its tag for email, the provider's message id for SMS and push.
	Ref           string   `dynamodbav:"ref,omitempty"`
	DeliveryState string   `dynamodbav:"deliveryState,omitempty"`
	Events        []string `dynamodbav:"events,stringset,omitempty"`
	FeedbackRev   int      `dynamodbav:"fbrev,omitempty"`
	// Who is the digest of the tenant and identity (the who index), by
	// which an erasure finds a person's entries.
	Who string `dynamodbav:"who,omitempty"`
}

func ledgerPK(t tenant.Tenant, executionID string) string {
	return tenantPK(t, skExecution, executionID)
}

// ledgerSK is an entry's sort key. Namespace and userId are path-escaped,
// so neither holds a '#' and two recipients never share a key.
func ledgerSK(k delivery.Key) string {
	sk := prefixLedger + url.PathEscape(k.Namespace) + "#" + url.PathEscape(k.UserID) + "#" + string(k.Channel)
	if k.Device != "" {
		sk += "#" + k.Device
	}
	return sk
}

// legacyLedgerSK is the key entries had before LedgerV2.
func legacyLedgerSK(k delivery.Key) string {
	sk := prefixLegacyLedger + string(k.Channel) + "#" + k.UserID
	if k.Device != "" {
		sk += "#" + k.Device
	}
	return sk
}

func entryKey(t tenant.Tenant, e delivery.Entry) map[string]types.AttributeValue {
	if e.LegacyKey {
		return key(ledgerPK(t, e.ExecutionID), legacyLedgerSK(e.Key))
	}
	return key(ledgerPK(t, e.ExecutionID), ledgerSK(e.Key))
}

func toLedgerItem(t tenant.Tenant, e delivery.Entry) ledgerItem {
	sk := ledgerSK(e.Key)
	if e.LegacyKey {
		sk = legacyLedgerSK(e.Key)
	}
	return ledgerItem{PK: ledgerPK(t, e.ExecutionID), SK: sk, ExecutionID: e.ExecutionID, Namespace: e.Namespace, UserID: e.UserID,
		Channel: string(e.Channel), Device: e.Device, CampaignID: e.CampaignID, Version: e.Version, Proof: e.Proof,
		State: string(e.State), Outcome: string(e.Outcome), MessageID: e.MessageID, Variant: e.Variant, Treatment: e.Treatment, Token: e.Token, InFlight: e.InFlight,
		Attempts: e.Attempts, AttemptAt: e.AttemptAt, LastCode: e.LastCode, Tag: e.Tag, ClaimedAt: e.ClaimedAt, FinishedAt: e.FinishedAt,
		Ref: feedback.RefOf(e).Key(), DeliveryState: e.DeliveryState, Events: e.Events, FeedbackRev: e.FeedbackRev,
		Who: whoIdentity(t, e.Namespace, e.UserID)}
}

// ledgerItem is e as stored, with its retention.
func (s *Store) ledgerItem(t tenant.Tenant, e delivery.Entry) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(toLedgerItem(t, e))
	if err != nil {
		return nil, fmt.Errorf("encode ledger entry: %w", err)
	}
	setExpiry(item, s.retention.Ledger, e.ClaimedAt)
	return item, nil
}

func fromLedgerItem(li ledgerItem) delivery.Entry {
	e := delivery.Entry{Key: delivery.Key{ExecutionID: li.ExecutionID, Namespace: li.Namespace, UserID: li.UserID,
		Channel: campaign.Channel(li.Channel), Device: li.Device}, CampaignID: li.CampaignID, Version: li.Version, Proof: li.Proof,
		State: delivery.State(li.State), Outcome: delivery.Outcome(li.Outcome), MessageID: li.MessageID, Variant: li.Variant, Treatment: li.Treatment, Token: li.Token,
		InFlight: li.InFlight, Attempts: li.Attempts, AttemptAt: li.AttemptAt, LastCode: li.LastCode, Tag: li.Tag,
		ClaimedAt: li.ClaimedAt, FinishedAt: li.FinishedAt, DeliveryState: li.DeliveryState, Events: li.Events, FeedbackRev: li.FeedbackRev}
	if strings.HasPrefix(li.SK, prefixLegacyLedger) {
		// The earlier code claimed just before sending: a claim of its
		// is an attempt in flight since it was made.
		e.LegacyKey = true
		if e.State == delivery.Claimed {
			e.InFlight, e.AttemptAt = true, e.ClaimedAt
		}
	}
	return e
}

func decodeEntry(item map[string]types.AttributeValue) (delivery.Entry, error) {
	var li ledgerItem
	if err := attributevalue.UnmarshalMap(item, &li); err != nil {
		return delivery.Entry{}, fmt.Errorf("decode ledger entry: %w", err)
	}
	return fromLedgerItem(li), nil
}

// legacyEntry returns the entry a job queued before LedgerV2 may have
// left under the earlier key, if e asks for it. It is a read before the
// conditional write: only Dispatch code running before and after the
// upgrade at the same moment on one recipient could slip between them.
func (s *Store) legacyEntry(ctx context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	if !e.Legacy {
		return delivery.Entry{}, false, nil
	}
	item, err := s.get(ctx, ledgerPK(t, e.ExecutionID), legacyLedgerSK(e.Key), "ledger entry")
	if derrors.Is(err, derrors.NotFound) {
		return delivery.Entry{}, false, nil
	}
	if err != nil {
		return delivery.Entry{}, false, err
	}
	old, err := decodeEntry(item)
	return old, err == nil, err
}

// putEntry writes e under cond; on a failed condition it returns the item
// that was there (ReturnValuesOnConditionCheckFailure), read again when
// the answer lacks it.
func (s *Store) putEntry(ctx context.Context, t tenant.Tenant, e delivery.Entry, cond expression.ConditionBuilder) (old map[string]types.AttributeValue, ok bool, err error) {
	item, err := s.ledgerItem(t, e)
	if err != nil {
		return nil, false, err
	}
	c, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, false, err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ConditionExpression: c.Condition(),
		ExpressionAttributeNames: c.Names(), ExpressionAttributeValues: c.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil, true, nil
	}
	if !isConditionFailed(err) {
		return nil, false, fmt.Errorf("write ledger entry: %w", err)
	}
	if old = conditionItem(err); old == nil {
		k := entryKey(t, e)
		out, gerr := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true)})
		if gerr != nil {
			return nil, false, fmt.Errorf("read ledger entry: %w", gerr)
		}
		old = out.Item
	}
	return old, false, nil
}

var (
	condAbsent   = expression.AttributeNotExists(expression.Name(attrPK))
	notInFlight  = expression.Or(expression.AttributeNotExists(expression.Name("inflight")), expression.Name("inflight").Equal(expression.Value(false)))
	stateClaimed = expression.Name("state").Equal(expression.Value(string(delivery.Claimed)))
)

func heldBy(token string) expression.ConditionBuilder {
	return expression.And(stateClaimed, expression.Name("token").Equal(expression.Value(token)))
}

// Claim implements delivery.Ledger.
func (s *Store) Claim(ctx context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	if old, ok, err := s.legacyEntry(ctx, t, e); err != nil || ok {
		return old, false, err
	}
	e.InFlight = false
	old, ok, err := s.putEntry(ctx, t, e, condAbsent)
	if err != nil || ok {
		return e, ok, err
	}
	if old == nil {
		// Deleted between the write and the read (a redrive): try again.
		return s.Claim(ctx, t, e)
	}
	existing, err := decodeEntry(old)
	if err != nil {
		return delivery.Entry{}, false, err
	}
	if existing.State == delivery.Claimed && existing.Token == e.Token {
		return existing, true, nil // an SDK retry of this very claim
	}
	return existing, false, nil
}

// Start implements delivery.Ledger.
func (s *Store) Start(ctx context.Context, t tenant.Tenant, e delivery.Entry, from string) error {
	e.State, e.InFlight = delivery.Claimed, true
	old, ok, err := s.putEntry(ctx, t, e, expression.And(heldBy(from), notInFlight))
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	}
	if old != nil {
		if cur, err := decodeEntry(old); err == nil && sameWrite(cur, e) {
			return nil // an SDK retry of a write that landed
		}
	}
	return derrors.New(derrors.Conflict, "the claim is held by another attempt")
}

// Finish implements delivery.Ledger. An SDK retry of a write that did
// land finds the entry as it wrote it: that is success, not a conflict.
func (s *Store) Finish(ctx context.Context, t tenant.Tenant, e delivery.Entry) error {
	old, ok, err := s.putEntry(ctx, t, e, heldBy(e.Token))
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	}
	if old != nil {
		if cur, err := decodeEntry(old); err == nil && sameWrite(cur, e) {
			return nil
		}
	}
	return derrors.New(derrors.Conflict, "ledger entry is no longer held by this claim")
}

// sameWrite reports whether the stored entry is what e writes.
func sameWrite(cur, e delivery.Entry) bool {
	return cur.Token == e.Token && cur.State == e.State && cur.Outcome == e.Outcome && cur.InFlight == e.InFlight && cur.Attempts == e.Attempts
}

// Release implements delivery.Ledger.
func (s *Store) Release(ctx context.Context, t tenant.Tenant, e delivery.Entry) error {
	e.State, e.InFlight = delivery.Claimed, false
	return s.Finish(ctx, t, e)
}

// Close implements delivery.Ledger.
func (s *Store) Close(ctx context.Context, t tenant.Tenant, e delivery.Entry) (delivery.Entry, bool, error) {
	if !e.LegacyKey {
		if old, ok, err := s.legacyEntry(ctx, t, e); err != nil {
			return delivery.Entry{}, false, err
		} else if ok && (old.State == delivery.Done || old.InFlight) {
			return old, false, nil
		}
	}
	old, ok, err := s.putEntry(ctx, t, e, expression.Or(condAbsent, expression.And(stateClaimed, notInFlight)))
	if err != nil || ok {
		return e, ok, err
	}
	if old == nil {
		return s.Close(ctx, t, e)
	}
	existing, err := decodeEntry(old)
	return existing, false, err
}

// Retry implements delivery.Ledger.
func (s *Store) Retry(ctx context.Context, t tenant.Tenant, e delivery.Entry, was delivery.Outcome) error {
	e.State, e.Outcome, e.InFlight, e.FinishedAt, e.MessageID = delivery.Claimed, "", false, time.Time{}, ""
	_, ok, err := s.putEntry(ctx, t, e, expression.And(
		expression.Name("state").Equal(expression.Value(string(delivery.Done))),
		expression.Name("outcome").Equal(expression.Value(string(was)))))
	switch {
	case err != nil:
		return err
	case !ok:
		return derrors.New(derrors.Conflict, "the entry's outcome changed")
	}
	return nil
}

// Reopen implements delivery.Ledger.
func (s *Store) Reopen(ctx context.Context, t tenant.Tenant, e delivery.Entry) error {
	c, err := expression.NewBuilder().WithCondition(expression.And(
		expression.Name("state").Equal(expression.Value(string(delivery.Done))),
		expression.Name("outcome").Equal(expression.Value(string(e.Outcome))))).Build()
	if err != nil {
		return err
	}
	_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: entryKey(t, e),
		ConditionExpression: c.Condition(), ExpressionAttributeNames: c.Names(), ExpressionAttributeValues: c.Values()})
	if isConditionFailed(err) {
		return derrors.New(derrors.Conflict, "the entry's outcome changed")
	}
	return err
}

// addressClaim is the item that makes owner the recipient of execution
// exec that sends to address digest addr on channel ch, and its
// condition: no owner yet, or owner itself.
func (s *Store) addressClaim(t tenant.Tenant, exec string, ch campaign.Channel, addr, owner string) (map[string]types.AttributeValue, expression.Expression, error) {
	item := key(ledgerPK(t, exec), prefixAddress+string(ch)+"#"+addr)
	item["owner"] = strAttr(owner)
	item[attrWho] = strAttr(whoAddress(t, string(ch), addr))
	setExpiry(item, s.retention.RecipientLists, time.Time{})
	c, err := expression.NewBuilder().WithCondition(expression.Or(condAbsent,
		expression.Name("owner").Equal(expression.Value(owner)))).Build()
	return item, c, err
}

// ClaimAndStart implements delivery.Ledger: one TransactWriteItems of the
// address claim, the entry and, with cap, the frequency cap counter
// (CapCounterPut), named by the entry's token (and the cap plan's
// attempt) so that an SDK retry of a transaction that landed succeeds
// instead of failing its own conditions.
func (s *Store) ClaimAndStart(ctx context.Context, t tenant.Tenant, e delivery.Entry, addr string, cw *delivery.CapWrite) (delivery.ClaimResult, error) {
	if e.Legacy || e.LegacyKey {
		return delivery.ClaimTaken, nil
	}
	e.State, e.InFlight = delivery.Claimed, true
	entry, err := s.ledgerItem(t, e)
	if err != nil {
		return 0, err
	}
	claim, cc, err := s.addressClaim(t, e.ExecutionID, e.Channel, addr, e.Tag)
	if err != nil {
		return 0, err
	}
	ce, err := expression.NewBuilder().WithCondition(condAbsent).Build()
	if err != nil {
		return 0, err
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: claim, ConditionExpression: cc.Condition(),
			ExpressionAttributeNames: cc.Names(), ExpressionAttributeValues: cc.Values()}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: entry, ConditionExpression: ce.Condition(),
			ExpressionAttributeNames: ce.Names(), ExpressionAttributeValues: ce.Values()}},
	}
	token := e.Token
	if cw != nil {
		put, err := s.CapCounterPut(t, cw.Key, cw.Counter)
		if err != nil {
			return 0, err
		}
		items = append(items, types.TransactWriteItem{Put: put})
		token += "c" + strconv.Itoa(cw.Attempt)
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(token), TransactItems: items})
	if err == nil {
		return delivery.ClaimStarted, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return 0, fmt.Errorf("claim and start: %w", err)
	}
	// Which item refused: the address claim or the entry (another
	// recipient owns the address, the entry exists, or a concurrent
	// write holds one of them: the long way tells which), else the
	// counter (another message was counted since it was read).
	refused := func(i int) bool {
		if i >= len(tce.CancellationReasons) {
			return false
		}
		c := aws.ToString(tce.CancellationReasons[i].Code)
		return c == "ConditionalCheckFailed" || c == "TransactionConflict"
	}
	switch {
	case refused(0) || refused(1):
		return delivery.ClaimTaken, nil
	case cw != nil && refused(2):
		return delivery.CapChanged, nil
	case isTxConditionFailed(err) || txConflict(tce):
		return delivery.ClaimTaken, nil
	}
	return 0, fmt.Errorf("claim and start: %w", err)
}

// ClaimAddress implements delivery.Ledger.
func (s *Store) ClaimAddress(ctx context.Context, t tenant.Tenant, exec string, ch campaign.Channel, addr, owner string) (string, error) {
	item, c, err := s.addressClaim(t, exec, ch, addr, owner)
	if err != nil {
		return "", err
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: c.Condition(), ExpressionAttributeNames: c.Names(), ExpressionAttributeValues: c.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	if err == nil {
		return owner, nil
	}
	if !isConditionFailed(err) {
		return "", fmt.Errorf("claim address: %w", err)
	}
	if old := conditionItem(err); old != nil {
		return str(old, "owner"), nil
	}
	got, err := s.get(ctx, ledgerPK(t, exec), prefixAddress+string(ch)+"#"+addr, "address claim")
	if err != nil {
		return "", err
	}
	return str(got, "owner"), nil
}

// Entries implements delivery.Ledger: a Query of the recipient's key
// prefix (and of the earlier key's, for a legacy key).
func (s *Store) Entries(ctx context.Context, t tenant.Tenant, k delivery.Key) ([]delivery.Entry, error) {
	k.Device = ""
	var out []delivery.Entry
	for _, prefix := range []string{ledgerSK(k), legacyLedgerSK(k)} {
		err := s.queryAll(ctx, ledgerPK(t, k.ExecutionID), prefix, func(item map[string]types.AttributeValue) error {
			e, err := decodeEntry(item)
			if err != nil {
				return err
			}
			// The prefix of userId "bob" also finds "bobby" in the
			// earlier key.
			if e.UserID == k.UserID && e.Channel == k.Channel && (e.LegacyKey || e.Namespace == k.Namespace) {
				out = append(out, e)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("query ledger: %w", err)
		}
	}
	return out, nil
}

func tallySK(shard int) string { return fmt.Sprintf("%s%04d", prefixTally, shard) }

// Tally implements delivery.Ledger. A counter item holds each recipient's
// outcome (r:<tag>, with its variant label: delivery.CountedValue) beside
// the counts (n:<outcome>, and n:v:<label>#<outcome> per variant), and
// every change is conditioned on the value it replaces, so a repeat is a
// no-op and a count can never drift from the outcomes it sums. The
// variant's count is added in the same UpdateItem: no extra write.
func (s *Store) Tally(ctx context.Context, t tenant.Tenant, exec string, shard int, tag string, o delivery.Outcome, label string) error {
	k := key(ledgerPK(t, exec), tallySK(shard))
	r := "r:" + tag
	val := delivery.CountedValue(o, label)
	// The counters expire with the retention of counters, from their
	// first write.
	exp, setExp := expiry(s.retention.Counters, time.Time{}), ""
	withExp := func(names map[string]string, values map[string]types.AttributeValue) {
		if !exp.IsZero() {
			names["#exp"] = attrExpiresAt
			values[":exp"] = numAttr(exp.Unix())
		}
	}
	if !exp.IsZero() {
		setExp = "#exp = if_not_exists(#exp, :exp)"
	}
	if o != "" {
		// The common case first, in one call: a recipient counted for the
		// first time.
		names := map[string]string{"#r": r, "#n": "n:" + string(o)}
		values := map[string]types.AttributeValue{":o": strAttr(val), ":one": &types.AttributeValueMemberN{Value: "1"}}
		withExp(names, values)
		add := "ADD #n :one"
		if label != "" {
			names["#v"] = "n:" + delivery.VariantCount(label, string(o))
			add += ", #v :one"
		}
		update := "SET #r = :o " + add
		if setExp != "" {
			update = "SET #r = :o, " + setExp + " " + add
		}
		_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: k,
			UpdateExpression: aws.String(update), ConditionExpression: aws.String("attribute_not_exists(#r)"),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values})
		if err == nil {
			return nil
		}
		if !isConditionFailed(err) {
			return fmt.Errorf("update counters: %w", err)
		}
	}
	for range 5 {
		out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("#r"), ExpressionAttributeNames: map[string]string{"#r": r}})
		if err != nil {
			return fmt.Errorf("read counters: %w", err)
		}
		curVal := str(out.Item, r)
		if curVal == val {
			return nil
		}
		cur, curLabel := delivery.SplitCounted(curVal)
		names := map[string]string{"#r": r}
		values := map[string]types.AttributeValue{}
		var set, add []string
		count := func(attr string, n int64) {
			i := strconv.Itoa(len(add))
			names["#a"+i], values[":a"+i] = attr, numAttr(n)
			add = append(add, "#a"+i+" :a"+i)
		}
		if o != "" {
			values[":o"] = strAttr(val)
			set = append(set, "#r = :o")
		}
		if cur != o {
			if o != "" {
				count("n:"+string(o), 1)
			}
			if cur != "" {
				count("n:"+string(cur), -1)
			}
		}
		if o != "" && label != "" {
			count("n:"+delivery.VariantCount(label, string(o)), 1)
		}
		if cur != "" && curLabel != "" {
			count("n:"+delivery.VariantCount(curLabel, string(cur)), -1)
		}
		if setExp != "" {
			withExp(names, values)
			set = append(set, setExp)
		}
		update := ""
		if len(set) > 0 {
			update += "SET " + strings.Join(set, ", ") + " "
		}
		if o == "" {
			update += "REMOVE #r "
		}
		if len(add) > 0 {
			update += "ADD " + strings.Join(add, ", ")
		}
		cond := "attribute_not_exists(#r)"
		if curVal != "" {
			cond = "#r = :cur"
			values[":cur"] = strAttr(curVal)
		}
		_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: k,
			UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values})
		if err == nil {
			return nil
		}
		if !isConditionFailed(err) {
			return fmt.Errorf("update counters: %w", err)
		}
		// Another writer changed this recipient's outcome: read again.
	}
	return errors.New("update counters: too much contention")
}

// tallyBatch is how many recipients one counter update names at most:
// its expression stays far below DynamoDB's 4 KB.
const tallyBatch = 50

// TallyMany implements delivery.Ledger: one UpdateItem per tallyBatch
// recipients, conditioned on none of them being counted yet; when some
// are (a redelivery), each goes through Tally, which moves it.
func (s *Store) TallyMany(ctx context.Context, t tenant.Tenant, exec string, shard int, counts []delivery.Count) error {
	var fresh []delivery.Count
	seen := make(map[string]bool, len(counts))
	var rest []delivery.Count
	for _, c := range counts {
		switch {
		case c.Outcome == "" || seen[c.Tag]:
			rest = append(rest, c)
		default:
			seen[c.Tag] = true
			fresh = append(fresh, c)
		}
	}
	for len(fresh) > 0 {
		n := min(len(fresh), tallyBatch)
		ok, err := s.tallyNew(ctx, t, exec, shard, fresh[:n])
		if err != nil {
			return err
		}
		if !ok {
			rest = append(rest, fresh[:n]...)
		}
		fresh = fresh[n:]
	}
	for _, c := range rest {
		if err := s.Tally(ctx, t, exec, shard, c.Tag, c.Outcome, c.Label); err != nil {
			return err
		}
	}
	return nil
}

// tallyNew counts recipients none of whom is counted yet in one
// UpdateItem; ok=false, with nothing written, when one of them is.
func (s *Store) tallyNew(ctx context.Context, t tenant.Tenant, exec string, shard int, counts []delivery.Count) (bool, error) {
	names := make(map[string]string, len(counts)+4)
	values := make(map[string]types.AttributeValue, len(counts)+4)
	set := make([]string, 0, len(counts)+1)
	cond := make([]string, 0, len(counts))
	// The counts each recipient adds: its outcome's, and its variant's.
	per := map[string]int{}
	var order []string
	count := func(name string) {
		if per[name] == 0 {
			order = append(order, name)
		}
		per[name]++
	}
	for i, c := range counts {
		r, o := "#r"+strconv.Itoa(i), ":o"+strconv.Itoa(i)
		names[r], values[o] = "r:"+c.Tag, strAttr(delivery.CountedValue(c.Outcome, c.Label))
		set = append(set, r+" = "+o)
		cond = append(cond, "attribute_not_exists("+r+")")
		count("n:" + string(c.Outcome))
		if c.Label != "" {
			count("n:" + delivery.VariantCount(c.Label, string(c.Outcome)))
		}
	}
	add := make([]string, len(order))
	for i, name := range order {
		n, k := "#n"+strconv.Itoa(i), ":k"+strconv.Itoa(i)
		names[n], values[k] = name, &types.AttributeValueMemberN{Value: strconv.Itoa(per[name])}
		add[i] = n + " " + k
	}
	if exp := expiry(s.retention.Counters, time.Time{}); !exp.IsZero() {
		names["#exp"], values[":exp"] = attrExpiresAt, numAttr(exp.Unix())
		set = append(set, "#exp = if_not_exists(#exp, :exp)")
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(ledgerPK(t, exec), tallySK(shard)),
		UpdateExpression:    aws.String("SET " + strings.Join(set, ", ") + " ADD " + strings.Join(add, ", ")),
		ConditionExpression: aws.String(strings.Join(cond, " AND ")), ExpressionAttributeNames: names, ExpressionAttributeValues: values})
	switch {
	case err == nil:
		return true, nil
	case isConditionFailed(err):
		return false, nil
	}
	return false, fmt.Errorf("update counters: %w", err)
}

// Counted implements delivery.Ledger: one GetItem of the shard, projected
// on the recipients' outcomes.
func (s *Store) Counted(ctx context.Context, t tenant.Tenant, exec string, shard int, tags []string) (map[string]delivery.Outcome, error) {
	out := map[string]delivery.Outcome{}
	if len(tags) == 0 {
		return out, nil
	}
	names := make(map[string]string, len(tags))
	proj := make([]string, len(tags))
	for i, tag := range tags {
		n := "#r" + strconv.Itoa(i)
		names[n] = "r:" + tag
		proj[i] = n
	}
	res, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(ledgerPK(t, exec), tallySK(shard)),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String(strings.Join(proj, ", ")), ExpressionAttributeNames: names})
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	for _, tag := range tags {
		if v := str(res.Item, "r:"+tag); v != "" {
			out[tag], _ = delivery.SplitCounted(v)
		}
	}
	return out, nil
}

// Counts implements status.Store: the counters of every shard, summed
// (those per variant left out: see VariantCounts).
func (s *Store) Counts(ctx context.Context, t tenant.Tenant, exec string) (map[delivery.Outcome]int64, error) {
	counts := map[delivery.Outcome]int64{}
	err := s.queryAll(ctx, ledgerPK(t, exec), prefixTally, func(item map[string]types.AttributeValue) error {
		for name, v := range item {
			o, ok := strings.CutPrefix(name, "n:")
			n, isNum := v.(*types.AttributeValueMemberN)
			if _, _, perVariant := delivery.ParseVariantCount(o); !ok || !isNum || perVariant {
				continue
			}
			c, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				return fmt.Errorf("decode counter %s: %w", name, err)
			}
			if c != 0 {
				counts[delivery.Outcome(o)] += c
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	return counts, nil
}

// VariantCounts implements status.Store: the per-variant counters of
// every shard (delivery.VariantCount names), summed.
func (s *Store) VariantCounts(ctx context.Context, t tenant.Tenant, exec string) (map[string]int64, error) {
	counts := map[string]int64{}
	err := s.queryAll(ctx, ledgerPK(t, exec), prefixTally, func(item map[string]types.AttributeValue) error {
		for name, v := range item {
			o, ok := strings.CutPrefix(name, "n:")
			n, isNum := v.(*types.AttributeValueMemberN)
			if _, _, perVariant := delivery.ParseVariantCount(o); !ok || !isNum || !perVariant {
				continue
			}
			c, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				return fmt.Errorf("decode counter %s: %w", name, err)
			}
			if c != 0 {
				counts[o] += c
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read counters: %w", err)
	}
	return counts, nil
}

// Summary implements status.Store from the execution item (unitary,
// proof or audience).
func (s *Store) Summary(ctx context.Context, t tenant.Tenant, exec string) (status.Summary, error) {
	item, err := s.get(ctx, ledgerPK(t, exec), skExecution, fmt.Sprintf("execution %q", exec))
	if err != nil {
		return status.Summary{}, err
	}
	if str(item, "kind") == kindAudience {
		var ex execution.AudienceExecution
		if err := json.Unmarshal([]byte(str(item, "doc")), &ex); err != nil {
			return status.Summary{}, fmt.Errorf("decode execution: %w", err)
		}
		sum := status.Summary{ID: ex.ID, Kind: kindAudience, CampaignID: ex.CampaignID, Version: ex.Version, CreatedAt: ex.CreatedAt,
			Recipients: ex.Targeted, Outside: map[delivery.Outcome]int64{delivery.ExcludedRateWindow: ex.WindowExcluded},
			RecurrenceID: recurrence.Of(ex), QueuedBehind: ex.QueuedBehind}
		switch ex.State {
		case execution.StateFannedOut:
			sum.Settled = true
		case execution.StateCancelled:
			sum.Failed = "cancelled before it ran"
		case execution.StateFailed:
			sum.Failed = ex.FailReason
		case execution.StateScheduled:
			sum.Detail = "scheduled for " + ex.ExecuteAt.UTC().Format(time.RFC3339)
		}
		return sum, nil
	}
	var ei executionItem
	if err := attributevalue.UnmarshalMap(item, &ei); err != nil {
		return status.Summary{}, fmt.Errorf("decode execution: %w", err)
	}
	return status.Summary{ID: ei.ExecutionID, Kind: ei.Kind, CampaignID: ei.CampaignID, Version: ei.Version, CreatedAt: ei.CreatedAt,
		Recipients: int64(ei.RecipientCount), Settled: true}, nil
}

// PutExecution stores the record of an execution that has no
// idempotency record (a proof send); derrors.Conflict if the id is taken.
func (s *Store) PutExecution(ctx context.Context, t tenant.Tenant, ex execution.Execution) error {
	item, err := attributevalue.MarshalMap(executionItem{
		PK: ledgerPK(t, ex.ID), SK: skExecution, ExecutionID: ex.ID, Kind: ex.Kind, RequestID: ex.RequestID,
		CampaignID: ex.CampaignID, Version: ex.Version, RecipientCount: ex.RecipientCount, CreatedAt: ex.CreatedAt, CreatedBy: ex.CreatedBy,
	})
	if err != nil {
		return fmt.Errorf("encode execution: %w", err)
	}
	index := campaignIndexItem(t, ex.CampaignID, ex.ID, ex.CreatedAt)
	setExpiry(item, s.retention.Executions, ex.CreatedAt)
	setExpiry(index, s.retention.Executions, ex.CreatedAt)
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: index}},
	}})
	if isTxConditionFailed(err) {
		return derrors.New(derrors.Conflict, "execution %s already exists", ex.ID)
	}
	if err != nil {
		return fmt.Errorf("store execution: %w", err)
	}
	return nil
}

// Page implements status.Store: a Query of the ledger's sort keys (both
// key versions: "L#" to "R#…"), the outcome filter a FilterExpression.
// The cursor is the last sort key read, base64url, and must be a ledger
// key.
func (s *Store) Page(ctx context.Context, t tenant.Tenant, exec string, q status.Query) ([]delivery.Entry, string, error) {
	kc := expression.KeyAnd(expression.Key(attrPK).Equal(expression.Value(ledgerPK(t, exec))),
		expression.Key(attrSK).Between(expression.Value(prefixLegacyLedger), expression.Value("R$")))
	b := expression.NewBuilder().WithKeyCondition(kc)
	outcome := expression.Name("outcome")
	switch f := q.Outcome; {
	case f == "":
	case f == "pending":
		b = b.WithFilter(stateClaimed)
	case f == "sent":
		b = b.WithFilter(expression.And(expression.Name("state").Equal(expression.Value(string(delivery.Done))), outcome.Equal(expression.Value("sent"))))
	case !strings.Contains(f, ":"):
		b = b.WithFilter(expression.And(expression.Name("state").Equal(expression.Value(string(delivery.Done))), outcome.BeginsWith(f+":")))
	default:
		b = b.WithFilter(expression.And(expression.Name("state").Equal(expression.Value(string(delivery.Done))), outcome.Equal(expression.Value(f))))
	}
	e, err := b.Build()
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), Limit: aws.Int32(int32(max(q.Limit, 1)))}
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		sk := string(raw)
		if err != nil || !(strings.HasPrefix(sk, prefixLedger) || strings.HasPrefix(sk, prefixLegacyLedger)) {
			return nil, "", derrors.Validation(derrors.FieldError{Field: "cursor", Message: "is not a cursor of this list"})
		}
		in.ExclusiveStartKey = key(ledgerPK(t, exec), sk)
	}
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("query ledger: %w", err)
	}
	entries := make([]delivery.Entry, 0, len(out.Items))
	for _, item := range out.Items {
		en, err := decodeEntry(item)
		if err != nil {
			return nil, "", err
		}
		entries = append(entries, en)
	}
	next := ""
	if out.LastEvaluatedKey != nil {
		next = base64.RawURLEncoding.EncodeToString([]byte(str(out.LastEvaluatedKey, attrSK)))
	}
	return entries, next, nil
}

// Ledger returns every entry of an execution (both key versions).
func (s *Store) Ledger(ctx context.Context, t tenant.Tenant, exec string) ([]delivery.Entry, error) {
	var out []delivery.Entry
	for _, prefix := range []string{prefixLegacyLedger, prefixLedger} {
		err := s.queryAll(ctx, ledgerPK(t, exec), prefix, func(item map[string]types.AttributeValue) error {
			e, err := decodeEntry(item)
			if err == nil {
				out = append(out, e)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("query ledger: %w", err)
		}
	}
	return out, nil
}

func conditionItem(err error) map[string]types.AttributeValue {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) && len(ccf.Item) > 0 {
		return ccf.Item
	}
	return nil
}

type parkedItem struct {
	PK       string    `dynamodbav:"pk"`
	SK       string    `dynamodbav:"sk"`
	ID       string    `dynamodbav:"id"`
	Job      string    `dynamodbav:"job"`
	Reason   string    `dynamodbav:"reason"`
	ParkedAt time.Time `dynamodbav:"parkedAt"`
}

// Park implements delivery.Parking: the job as JSON under K#<id>.
func (s *Store) Park(ctx context.Context, t tenant.Tenant, p delivery.ParkedJob) error {
	job, err := delivery.EncodeJob(p.Job)
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	item, err := attributevalue.MarshalMap(parkedItem{PK: ledgerPK(t, p.Job.ExecutionID), SK: prefixParked + p.ID, ID: p.ID,
		Job: string(job), Reason: p.Reason, ParkedAt: p.ParkedAt})
	if err != nil {
		return fmt.Errorf("encode parked job: %w", err)
	}
	setExpiry(item, s.retention.Ledger, p.ParkedAt)
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return err
}

// Parked implements delivery.Parking.
func (s *Store) Parked(ctx context.Context, t tenant.Tenant, exec string) ([]delivery.ParkedJob, error) {
	var out []delivery.ParkedJob
	err := s.queryAll(ctx, ledgerPK(t, exec), prefixParked, func(item map[string]types.AttributeValue) error {
		var pi parkedItem
		if err := attributevalue.UnmarshalMap(item, &pi); err != nil {
			return fmt.Errorf("decode parked job: %w", err)
		}
		p := delivery.ParkedJob{ID: pi.ID, Reason: pi.Reason, ParkedAt: pi.ParkedAt}
		job, err := delivery.DecodeJob([]byte(pi.Job))
		if err != nil {
			return fmt.Errorf("decode parked job: %w", err)
		}
		p.Job = job
		out = append(out, p)
		return nil
	})
	return out, err
}

// ParkedJob implements delivery.ParkedJobs: one read of K#<id>.
func (s *Store) ParkedJob(ctx context.Context, t tenant.Tenant, exec, id string) (delivery.ParkedJob, error) {
	item, err := s.get(ctx, ledgerPK(t, exec), prefixParked+id, "parked job "+id)
	if err != nil {
		return delivery.ParkedJob{}, err
	}
	var pi parkedItem
	if err := attributevalue.UnmarshalMap(item, &pi); err != nil {
		return delivery.ParkedJob{}, fmt.Errorf("decode parked job: %w", err)
	}
	job, err := delivery.DecodeJob([]byte(pi.Job))
	if err != nil {
		return delivery.ParkedJob{}, fmt.Errorf("decode parked job: %w", err)
	}
	return delivery.ParkedJob{ID: pi.ID, Job: job, Reason: pi.Reason, ParkedAt: pi.ParkedAt}, nil
}

// Unpark implements delivery.Parking.
func (s *Store) Unpark(ctx context.Context, t tenant.Tenant, exec, id string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(ledgerPK(t, exec), prefixParked+id)})
	return err
}
