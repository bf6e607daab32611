package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/audience"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/erasure"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ erasure.Store = (*Store)(nil)

// WhoIndex is the sparse, keys-only index on who: a digest of the tenant
// and a recipient's identity (ledger entries) or of an address's digest
// (recipient list items), which is how an erasure finds a person's rows
// across executions. Written once per ledger entry and per address claim
// (who never changes, so rewriting an entry writes no index item).
const WhoIndex = "who"

const attrWho = "who"

// whoIdentity is the who of the ledger entries of identity ns/id.
func whoIdentity(t tenant.Tenant, ns, id string) string {
	return whoDigest("i", t.Key(), ns, id)
}

// whoAddress is the who of the recipient list items of an address
// (its delivery.AddressDigest).
func whoAddress(t tenant.Tenant, ch, digest string) string {
	return whoDigest("a", t.Key(), ch, digest)
}

func whoDigest(kind string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return kind + "#" + hex.EncodeToString(sum[:16])
}

// queryWho calls fn with the key of each item whose who is w.
func (s *Store) queryWho(ctx context.Context, w string, fn func(pk, sk string) error) error {
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(WhoIndex),
		KeyConditionExpression: aws.String("#w = :w"), ExpressionAttributeNames: map[string]string{"#w": attrWho},
		ExpressionAttributeValues: map[string]types.AttributeValue{":w": strAttr(w)}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if err := fn(str(item, attrPK), str(item, attrSK)); err != nil {
				return err
			}
		}
	}
	return nil
}

// EraseSubject implements erasure.Store:
//
//   - ledger entries of each identity (who index) are rewritten under
//     the pseudonym: the old item is deleted and the new one put in one
//     transaction, without the provider's message id;
//   - the execution's recipient list items those entries owned, and those
//     of each address (who index), are deleted;
//   - the identities' audience memberships are removed (each audience's
//     count follows);
//   - webhook deliveries whose message names an identity or address (a
//     string value equal to it) are deleted, with their list entries: a
//     Query of the tenant's delivery partition, which retention bounds;
//   - transient bounce windows of each address are deleted;
//   - frequency cap counters of each identity are deleted (a DeleteItem
//     per channel: their keys follow from the identity);
//   - suppressions of each address are kept and counted.
func (s *Store) EraseSubject(ctx context.Context, t tenant.Tenant, sub erasure.Subject, pseudonym func(profile.Identity) string, r *erasure.Result) error {
	owners := map[string]map[string]bool{} // execution → tags of the entries pseudonymised
	for _, id := range sub.Identities {
		err := s.queryWho(ctx, whoIdentity(t, id.Namespace, id.ID), func(pk, sk string) error {
			e, err := s.pseudonymise(ctx, t, pk, sk, pseudonym(id))
			if err != nil || e == nil {
				return err
			}
			moved := e.Key.Recipient()
			moved.UserID = pseudonym(id)
			if err := s.renameTally(ctx, t, e.ExecutionID, delivery.Tag(t, e.Key.Recipient()), delivery.Tag(t, moved)); err != nil {
				return err
			}
			r.Pseudonymised[erasure.LedgerEntries]++
			if owners[e.ExecutionID] == nil {
				owners[e.ExecutionID] = map[string]bool{}
			}
			owners[e.ExecutionID][e.Tag] = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("ledger entries: %w", err)
		}
	}
	for exec, tags := range owners {
		err := s.queryAll(ctx, ledgerPK(t, exec), prefixAddress, func(item map[string]types.AttributeValue) error {
			if !tags[str(item, "owner")] {
				return nil
			}
			return s.eraseItem(ctx, str(item, attrPK), str(item, attrSK), erasure.RecipientLists, r)
		})
		if err != nil {
			return fmt.Errorf("recipient lists: %w", err)
		}
	}
	for _, a := range sub.Addresses {
		err := s.queryWho(ctx, whoAddress(t, string(a.Channel), delivery.AddressDigest(campaign.Channel(a.Channel), a.Address)), func(pk, sk string) error {
			return s.eraseItem(ctx, pk, sk, erasure.RecipientLists, r)
		})
		if err != nil {
			return fmt.Errorf("recipient lists: %w", err)
		}
		err = s.queryAll(ctx, tenantPK(t, kindSoftBounce, string(a.Channel)), a.Address+"#", func(item map[string]types.AttributeValue) error {
			return s.eraseItem(ctx, str(item, attrPK), str(item, attrSK), erasure.SoftBounces, r)
		})
		if err != nil {
			return fmt.Errorf("transient bounces: %w", err)
		}
		switch _, err := s.GetSuppression(ctx, t, a.Channel, a.Address); {
		case err == nil:
			r.Kept[erasure.Suppressions]++
		case !derrors.Is(err, derrors.NotFound):
			return fmt.Errorf("suppressions: %w", err)
		}
	}
	for exec := range owners {
		n, err := erasure.StripParked(ctx, s, t, exec, sub)
		r.Erased[erasure.ParkedRecipients] += n
		if err != nil {
			return err
		}
	}
	if err := s.eraseMemberships(ctx, t, sub.Identities, r); err != nil {
		return err
	}
	if err := s.eraseCapCounters(ctx, t, sub.Identities, r); err != nil {
		return err
	}
	return s.eraseDeliveries(ctx, t, sub, r)
}

// pseudonymise moves the ledger entry pk/sk to the key of user, returning
// the entry as it was (nil if it is gone).
func (s *Store) pseudonymise(ctx context.Context, t tenant.Tenant, pk, sk, user string) (*delivery.Entry, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read ledger entry: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	old, err := decodeEntry(out.Item)
	if err != nil {
		return nil, err
	}
	e := old
	e.UserID, e.MessageID, e.LegacyKey = user, "", false
	e.Tag = delivery.Tag(t, e.Key)
	item, err := s.ledgerItem(t, e)
	if err != nil {
		return nil, err
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(pk, sk), ConditionExpression: aws.String("attribute_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: item}},
	}})
	if isTxConditionFailed(err) {
		return nil, nil // erased meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("pseudonymise ledger entry: %w", err)
	}
	return &old, nil
}

// renameTally moves a recipient's outcome in its execution's counters
// (r:<tag>, see Tally) from its old tag, a digest of the identity, to the
// pseudonym's, in the shard it is in; the counts stay.
func (s *Store) renameTally(ctx context.Context, t tenant.Tenant, exec, from, to string) error {
	return s.queryAll(ctx, ledgerPK(t, exec), prefixTally, func(item map[string]types.AttributeValue) error {
		if _, ok := item["r:"+from]; !ok {
			return nil
		}
		_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(str(item, attrPK), str(item, attrSK)),
			UpdateExpression: aws.String("SET #to = #from REMOVE #from"), ConditionExpression: aws.String("attribute_exists(#from)"),
			ExpressionAttributeNames: map[string]string{"#from": "r:" + from, "#to": "r:" + to}})
		if err != nil && !isConditionFailed(err) {
			return fmt.Errorf("rename counter: %w", err)
		}
		return nil
	})
}

// eraseItem deletes pk/sk, counting it under kind if it was there.
func (s *Store) eraseItem(ctx context.Context, pk, sk, kind string, r *erasure.Result) error {
	out, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(pk, sk),
		ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return fmt.Errorf("delete %s: %w", kind, err)
	}
	if out.Attributes != nil {
		r.Erased[kind]++
	}
	return nil
}

// eraseMemberships removes ids from every audience of the tenant.
func (s *Store) eraseMemberships(ctx context.Context, t tenant.Tenant, ids []profile.Identity, r *erasure.Result) error {
	ms := make([]audience.Member, len(ids))
	for i, id := range ids {
		ms[i] = audience.Member{Namespace: id.Namespace, ID: id.ID}
	}
	return s.queryAll(ctx, audiencesPK(t), "AUD#", func(item map[string]types.AttributeValue) error {
		id := strings.TrimPrefix(str(item, attrSK), "AUD#")
		n, err := s.RemoveMembers(ctx, t, id, ms)
		if err != nil {
			return fmt.Errorf("audience memberships: %w", err)
		}
		r.Erased[erasure.AudienceMemberships] += n
		return nil
	})
}

// eraseDeliveries deletes the webhook deliveries whose message names
// one of sub's identities or addresses (erasure.Mentions).
func (s *Store) eraseDeliveries(ctx context.Context, t tenant.Tenant, sub erasure.Subject, r *erasure.Result) error {
	return s.queryAll(ctx, deliveryPK(t), "E#", func(item map[string]types.AttributeValue) error {
		d, err := fromDeliveryItem(item)
		if err != nil {
			return err
		}
		if !erasure.Mentions(d.Message, sub) {
			return nil
		}
		if _, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(deliveryPK(t), deliveryListSK(d))}); err != nil {
			return fmt.Errorf("delete webhook delivery: %w", err)
		}
		return s.eraseItem(ctx, deliveryPK(t), deliverySK(d.EventID), erasure.WebhookDeliveries, r)
	})
}
