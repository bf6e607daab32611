// Package dynamo stores all of Herald's data in one DynamoDB table.
//
// Key schema (pk, sk are strings; tk is the tenant key "org#sandbox"):
//
//	item                 pk                                  sk                          gsi1pk / gsi1sk
//	API key              KEY#<sha256 of secret>              KEY
//	channel config       T#<tk>#CHCFG#<id>                   CHCFG                       T#<tk>#CHCFGS / <createdAt>#<id>
//	campaign             T#<tk>#CAMP#<id>                    CAMP                        T#<tk>#CAMPS / <createdAt>#<id>
//	campaign version     T#<tk>#CAMP#<id>                    V#<number, 6 digits>
//	profile              T#<tk>#PROF#<namespace>#<id>        PROF      (primary identity)
//	profile identity     T#<tk>#PROF#<namespace>#<id>        ALIAS     (another identity → primary)
//	suppression          T#<tk>#SUPP                         <channel>#<address>
//	idempotency record   T#<tk>#REQ#<requestId>              REQ       (expiresAt TTL)
//	execution            T#<tk>#EXEC#<id>                    EXEC
//	ledger entry         T#<tk>#EXEC#<id>                    L#<channel>#<userId>[#<device>]  (proof=true in a proof-<uuid> execution)
//	audience header      T#<tk>#AUDS                         AUD#<id>  (memberCount)
//	audience member      T#<tk>#AUD#<id>                     M#<namespace>#<id>
//	audience execution   T#<tk>#EXEC#<id>                    EXEC      (kind "audience", state, leaseToken, doc)
//	campaign schedule    T#<tk>#CAMP#<id>                    SCH#<schedule name>
//	recurrence           T#<tk>#CAMP#<id>                    REC#<id>  (doc; lastAt, lastExecutionId)
//	campaign execution   T#<tk>#CAMP#<id>                    XI#<2^63-1 − createdAt ns, 19 digits>#<executionId>
//	pacing timeline      T#<tk>#CAMP#<id>                    PACE      (nextAt, Unix ns)
//	feedback counters    T#<tk>#EXEC#<id>                    F#<shard> (n:<counter>, n:v:<label>#<counter> per variant)
//	campaign report      T#<tk>#REPORT#<campaignId>          A#<shard> all-time, H#<yyyymmddhh>#<shard> (expiresAt):
//	                                                         n:<counter> (Feedback), o:<outcome> and targeted (Reports)
//	execution counters   T#<tk>#EXEC#<id>                    T#<shard, 4 digits> (r:<tag> = outcome[|<variant label>], n:<outcome>,
//	                                                         n:v:<label>#<outcome>: per treatment/locale variant, same write)
//	stream record added  T#<tk>#EXEC#<id>                    S#<stream event id> (expiresAt; outcomes.go)
//	transient bounces    T#<tk>#SOFTB#<channel>              <address>#<window start> (n, expiresAt)
//	reputation window    T#<tk>#REPUTATION#<channel>         H#<yyyymmddhh>#<shard> (n:sends, n:bounces, n:complaints; expiresAt)
//	reputation guard     T#<tk>#REPUTATION#<channel>         GUARD     (paused, since, reason, counts; liftedAt, baseline)
//	feedback webhook     T#<tk>#WH                           WH        (secret write-only at the API)
//	webhook delivery     T#<tk>#WHD                          E#<eventId>  (status, lease, message; expiresAt TTL)
//	delivery list entry  T#<tk>#WHD                          L#<2^63-1 − createdAt ns, 19 digits>#<eventId>  (expiresAt TTL)
//	endpoint owner       EP#<sha256 of endpoint ARN>         EP        (org, sandbox, namespace, profileId, device)
//	rate limit window    T#<tk>#RATE#<group>#<Unix second>   W         (used; expiresAt a minute on)
//	rate limit overrides T#<tk>#RATE                         LIMITS    (execution, highthroughput, management)
//	frequency caps       T#<tk>#CAPS                         RULES     (rules: channel, limit, window; updatedAt)
//	frequency counter    T#<tk>#CAP#<channel>#<digest of     CAP       (slots: ledger tag → Unix ms; rev; expiresAt TTL)
//	                     namespace and userId>
//
// Retention (retention.go, WithRetention): executions, a campaign's
// execution index (XI#), ledger entries (R#), parked jobs (K#), recipient
// lists (D#), counters (T#, F#), idempotency records and webhook
// deliveries get expiresAt, the table's TTL attribute, from the
// deployment's retention settings; keys, configurations, campaigns,
// profiles, audiences, the webhook and suppressions never expire.
//
// Ledger entries carry who (index "who", keys only): "i#" and a digest of
// the tenant, namespace and userId; recipient list items (D#) carry "a#"
// and a digest of the tenant, channel and address digest. An erasure
// (erasure.go) finds a person's rows across executions through it; who
// never changes, so only an item's creation writes the index.
//
// Ledger entries carry ref (index "ref", keys only): t#<tag> for email,
// m#<provider message id> for SMS and push, which is how the Feedback
// function finds the entry a provider event is about (feedback.go).
//
// Ledger entries of push carry the device: a digest of the app id and
// token (never the token).
//
// An endpoint owner is written when Dispatch stores a platform endpoint it
// made on a profile's device (once per endpoint, never per send) and read
// with GetItem by the Feedback function, whose SNS endpoint events name
// the endpoint only: hence a pk without the tenant. It holds the device's
// digest (delivery.DeviceKey), never the token. Erasing a profile deletes
// the owners of its devices' endpoints that still name it (DeleteItem
// conditioned on the owner, before the profile's transaction).
//
// Audience data: a tenant's audiences are a Query on AUDS ("AUD#"); an
// audience's members are read in pages behind a cursor (the last sk read,
// base64url; "M#" — the fan-out's read); a campaign's pending schedules
// ("SCH#") and recurrences ("REC#") are Queries on the campaign's pk; the
// audience status counts the ledger projecting state and outcome. Members
// are added with BatchGet (which exist) + BatchWrite (25) and an ADD on
// the header's count; an audience execution's state and lease change by
// conditional puts; the pacing timeline by a put conditioned on the nextAt
// read.
//
// Access patterns:
//
//	read one item                 GetItem / BatchGetItem by full key (consistent)
//	frequency cap counter         GetItem (consistent), then PutItem conditioned on the rev read
//	                              (attribute_not_exists for a new one); a lost race reads again
//	                              (capping.Service.Reserve)
//	an execution's ledger         Query pk = T#<tk>#EXEC#<id>, sk begins_with "L#"
//	a profile by any identity     Query pk = T#<tk>#PROF#<ns>#<id> (PROF or ALIAS), then GetItem
//	                              of the primary for an ALIAS; a profile and its identities are
//	                              written in one transaction that refuses an identity owned by
//	                              another profile; a batch whose identities do not change goes
//	                              through BatchWriteItem (25 a call)
//	the suppression list          Query pk = T#<tk>#SUPP, sk begins_with "<channel>#", one page a
//	                              call, the last sk as cursor
//	list campaigns                Query gsi1 gsi1pk = T#<tk>#CAMPS, newest first; status, type,
//	                              channel, tag (contains) and name prefix (nameKey begins_with)
//	                              are filters; the cursor is the last item's key, checked to be
//	                              the caller's partition
//	list configurations           Query gsi1 gsi1pk = T#<tk>#CHCFGS (channel, category, name filters)
//	list a campaign's executions  Query pk = T#<tk>#CAMP#<id>, sk begins_with "XI#" (newest first by
//	                              construction), then each one's status; written in the
//	                              transaction that stores the execution
//	list a campaign's versions    Query pk = T#<tk>#CAMP#<id>, sk begins_with "V#", newest first,
//	                              projecting only the summary
//	webhook deliveries            Query pk = T#<tk>#WHD, sk begins_with "L#" (newest first by
//	                              construction), then BatchGet of their E# records; a delivery is
//	                              claimed by a transaction creating both items, or by an update of
//	                              E# conditioned on its status and lease (webhooks.go)
//	erase a person                Query who = i#… per identity (ledger entries, each moved to its
//	                              pseudonym's key in a transaction) and a#… per address (D#), the
//	                              erased entries' executions' D#, a DeleteItem per audience, a
//	                              Query of the tenant's WHD (E#), of SOFTB#<channel> per address
//	reputation window             Query pk = T#<tk>#REPUTATION#<channel>, sk between "H#<first hour>"
//	                              and "H#~" (24 hours × 8 shards at most); counters ADDed in the
//	                              feedback transaction; the guard is a GetItem (Dispatch caches it
//	                              a minute), paused by an update conditioned on it not being
//	                              paused, lifted by a put conditioned on it being paused
//	campaign send counts          the table's stream (NEW_AND_OLD_IMAGES), filtered to sk "T#…",
//	                              feeds the Reports function: per record, the difference of the
//	                              counter item's n:<outcome> and r:<tag> counts; a batch's, summed
//	                              per campaign and hour, ADDed to one A# and one H# shard in a
//	                              transaction with each record's S# marker (conditional puts,
//	                              98 at most), so a redelivered record adds nothing
//	archive a campaign            PutItem (revision-guarded) with expiresAt, then UpdateItem
//	                              expiresAt on each version (the table's TTL removes them)
//	rate limit lease              UpdateItem ADD used :n on the window's item, conditioned on used
//	                              staying within the limit; on a failed condition the old item says
//	                              what is left, taken by one more such update (ratelimits.go); a
//	                              tenant's overrides are a GetItem each container caches a minute
//
// gsi1 projects only what lists show and filter on (INCLUDE), never the
// content. Creates are conditional puts (attribute_not_exists(pk)); every
// campaign and configuration change is conditioned on the revision it was
// made from (the API's ETag). Activation is one transaction: the version
// is created (never overwritten), the campaign replaced if its revision is
// unchanged, and the channel configuration, which must still exist, gets
// the campaign in its usedBy set and its useSeq counter bumped; deleting a
// configuration reads usedBy, checks none of those campaigns is live or
// scheduled with it, and deletes conditioned on useSeq being unchanged, so
// an activation can never slip in between. An execution and its
// idempotency record are written in one transaction, which, when the
// Trigger accepted the call on a campaign from its container's cache,
// also holds a ConditionCheck of that campaign's revision. Nothing Scans.
//
// Campaigns and versions are stored as gzipped JSON documents (doc) beside
// the attributes lists and conditions need: an email's HTML may be 500 KB
// and an item at most 400 KB. Configurations and profiles are stored as
// attributes beside the key attributes. Each of these has a storage record
// of its own (campaignrecords.go, profilerecords.go), whose tags are the
// stored names, converted to and from the domain type field by field: a
// change to an API type's JSON never changes what is stored, and
// testdata holds items as they are stored, which must keep reading.
// Ledger, execution, idempotency and suppression items have storage
// structs too; audiences and campaign schedules are still stored in their
// domain types' JSON shape, and audience executions and recurrences keep
// theirs as a JSON doc. DynamoDB's
// ConditionalCheckFailedException never leaves this package: it becomes a
// derrors.Conflict or derrors.Precondition.
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	// Scan serves only administrative tools (herald-key index), never a
	// function.
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Store implements Herald's domain stores on one table.
type Store struct {
	api   API
	table string
	// retention is how long the kinds that expire are kept (WithRetention).
	retention config.Retention
}

// New returns a store on table.
func New(api API, table string) *Store { return &Store{api: api, table: table} }

const (
	attrPK = "pk"
	attrSK = "sk"
)

var (
	jsonEnc = attributevalue.NewEncoder(func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
	jsonDec = attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
)

func tenantPK(t tenant.Tenant, kind, id string) string { return "T#" + t.Key() + "#" + kind + "#" + id }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// aggregate encodes v in its JSON shape and adds the key attributes.
func aggregate(pk, sk string, v any) (map[string]types.AttributeValue, error) {
	av, err := jsonEnc.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", sk, err)
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("encode %s: not an object", sk)
	}
	m.Value[attrPK] = &types.AttributeValueMemberS{Value: pk}
	m.Value[attrSK] = &types.AttributeValueMemberS{Value: sk}
	return m.Value, nil
}

func decodeAggregate(item map[string]types.AttributeValue, v any) error {
	return jsonDec.Decode(&types.AttributeValueMemberM{Value: item}, v)
}

// encodeDoc encodes v as a JSON document attribute, with '<', '>' and
// '&' as themselves: encoding/json's \u003c escapes would make a context
// of markup, within its 200 KB limit, six times larger than the 400 KB an
// item may hold.
func encodeDoc(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// decodeDoc decodes a JSON document attribute, keeping numbers exact as
// json.Number: a context number beyond float64 (1e400) is stored as sent
// and must read back, not fail every later read.
func decodeDoc(doc string, v any) error {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	return dec.Decode(v)
}

// putNew writes item unless an item with its key exists (derrors.Conflict).
func (s *Store) putNew(ctx context.Context, item map[string]types.AttributeValue, what string) error {
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if isConditionFailed(err) {
		return derrors.New(derrors.Conflict, "%s already exists", what)
	}
	return err
}

// DynamoDB's key limits: a partition key of at most 2048 bytes, a sort
// key of at most 1024, both non-empty UTF-8. A request for a longer key is
// a ValidationException, not a miss, so such keys are answered here.
const (
	maxPKBytes = 2048
	maxSKBytes = 1024
)

// keyFits reports whether pk and sk can be a key of the table.
func keyFits(pk, sk string) bool {
	return pk != "" && sk != "" && len(pk) <= maxPKBytes && len(sk) <= maxSKBytes && utf8.ValidString(pk) && utf8.ValidString(sk)
}

// get reads one item; derrors.NotFound when absent (or when no item can
// have that key).
func (s *Store) get(ctx context.Context, pk, sk, what string) (map[string]types.AttributeValue, error) {
	if !keyFits(pk, sk) {
		return nil, derrors.New(derrors.NotFound, "%s not found", what)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", what, err)
	}
	if out.Item == nil {
		return nil, derrors.New(derrors.NotFound, "%s not found", what)
	}
	return out.Item, nil
}

// batchGet reads keys in chunks of 100 (BatchGetItem's limit), retrying
// unprocessed keys with a short backoff.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += 100 {
		pending := keys[start:min(start+100, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 8 {
					return nil, fmt.Errorf("batch get: %d keys still unprocessed", len(pending))
				}
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
				}
			}
			out, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: pending, ConsistentRead: aws.Bool(true)}},
			})
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", err)
			}
			items = append(items, out.Responses[s.table]...)
			pending = out.UnprocessedKeys[s.table].Keys
		}
	}
	return items, nil
}

func asErr(err error, target any) bool { return errors.As(err, target) }

// batchWrite writes requests in chunks of 25 (BatchWriteItem's limit),
// retrying unprocessed items with a short backoff.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for start := 0; start < len(reqs); start += 25 {
		pending := reqs[start:min(start+25, len(reqs))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 8 {
					return fmt.Errorf("batch write: %d items still unprocessed", len(pending))
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(1<<attempt) * 10 * time.Millisecond):
				}
			}
			out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				return fmt.Errorf("batch write: %w", err)
			}
			pending = out.UnprocessedItems[s.table]
		}
	}
	return nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// isTxConditionFailed reports whether a transaction was cancelled because
// a condition failed.
func isTxConditionFailed(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	for _, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// isInvalidRequest reports DynamoDB's refusal of a request as invalid: a
// ValidationException, or a transaction cancelled by one. For an item
// built from validated input, that is a value beyond the store's limits
// that validation let through; retrying cannot help.
func isInvalidRequest(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" {
		return true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			// DynamoDB says ValidationError, moto ValidationException.
			if c := aws.ToString(r.Code); c == "ValidationError" || c == "ValidationException" {
				return true
			}
		}
	}
	return false
}

func str(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Table is the name of the store's table.
func (s *Store) Table() string { return s.table }
