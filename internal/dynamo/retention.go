package dynamo

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/internal/config"
)

// attrExpiresAt is the table's TTL attribute (template.yaml's
// TimeToLiveSpecification): Unix seconds after which DynamoDB deletes the
// item, within a day or two.
const attrExpiresAt = "expiresAt"

// WithRetention makes s set expiresAt on the kinds of items r keeps for a
// time (config.Retention says which; a zero duration keeps a kind
// forever), and returns s. A store without it writes those kinds with no
// expiresAt, except idempotency records and webhook deliveries, which
// then expire when their domain says (execution.IdempotencyTTL,
// webhook.DeliveryTTL).
func (s *Store) WithRetention(r config.Retention) *Store {
	s.retention = r
	return s
}

// expiry is when an item kept for keep from `from` expires; zero when
// keep is (kept forever). A zero from is now.
func expiry(keep time.Duration, from time.Time) time.Time {
	if keep <= 0 {
		return time.Time{}
	}
	if from.IsZero() {
		from = time.Now()
	}
	return from.Add(keep)
}

// setExpiry sets item's expiresAt to expiry(keep, from), or leaves it
// without one when the kind is kept forever.
func setExpiry(item map[string]types.AttributeValue, keep time.Duration, from time.Time) {
	if at := expiry(keep, from); !at.IsZero() {
		item[attrExpiresAt] = numAttr(at.Unix())
	}
}
