// Package memory is an in-memory implementation of Herald's stores, queue
// and mailer: the hand-written fake behind unit tests and in-process
// benchmarks. It keeps the same contracts as the DynamoDB store (conditional
// creates, revision-guarded activation, ledger claims) so tests of the
// domain exercise the real rules.
//
// The files mirror internal/dynamo's, one per store (keys.go,
// campaigns.go, profiles.go, suppressions.go, executions.go, ledger.go,
// audiences.go, endpoints.go); senders.go holds the Queue, Mailer, SMSSender and Pusher
// fakes. The contracts in internal/storetest run against both stores.
package memory

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/feedback"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/suppression"
	"github.com/heraldhq/herald/internal/tenant"
)

// Store keeps everything in maps keyed like the DynamoDB store.
type Store struct {
	mu           sync.Mutex
	keys         map[string]auth.Key
	keyHashes    map[string]string // key id → the hash of its secret
	configs      map[string]campaign.ChannelConfig
	campaigns    map[string]campaign.Campaign
	versions     map[string]campaign.Version
	profiles     map[string]profile.Profile
	aliases      map[string]string // secondary identity key → primary key
	suppressions map[string]suppression.Entry
	records      map[string]execution.Record
	executions   map[string]execution.Execution
	ledger       map[string]delivery.Entry
	// addresses, tallies and parked are the ledger's other items
	// (ledger.go).
	addresses map[string]string
	tallies   map[string]map[string]string // execution → tag → delivery.CountedValue
	parked    map[string]delivery.ParkedJob
	// configUse is, per configuration, the campaigns activated with it
	// and a counter bumped by every such activation.
	configUse map[string]*configUse
	// versionExpiry records ExpireVersions calls, per campaign.
	versionExpiry map[string]time.Time
	// aud holds audiences, audience executions, pacing, schedule refs
	// and recurrences (audiences.go).
	aud *audienceData
	// feedback holds report counters and transient bounce counts, refs
	// the ledger's reference index (feedback.go).
	feedback *feedbackData
	refs     map[feedback.Ref]string
	// outcomes holds the campaigns' send counts (outcomes.go).
	outcomes *outcomeData
	// hooks holds feedback webhooks and their deliveries (webhooks.go).
	hooks *webhookData
	// endpoints are the owners of platform endpoints, by ARN
	// (endpoints.go).
	endpoints map[string]delivery.EndpointOwner
	// rate holds rate limit counters and overrides (ratelimits.go).
	rate *rateData
	// caps holds frequency cap rule sets and counters (capping.go).
	caps *capData
}

type configUse struct {
	campaigns []string
	seq       int
}

// New returns an empty store.
func New() *Store {
	return &Store{
		keys: map[string]auth.Key{}, keyHashes: map[string]string{}, configs: map[string]campaign.ChannelConfig{},
		campaigns: map[string]campaign.Campaign{}, versions: map[string]campaign.Version{},
		profiles: map[string]profile.Profile{}, aliases: map[string]string{},
		suppressions: map[string]suppression.Entry{}, records: map[string]execution.Record{},
		executions: map[string]execution.Execution{}, ledger: map[string]delivery.Entry{},
		addresses: map[string]string{}, tallies: map[string]map[string]string{}, parked: map[string]delivery.ParkedJob{},
		configUse: map[string]*configUse{}, versionExpiry: map[string]time.Time{},
	}
}

// k is the store's key of an item: the tenant's key and parts, joined by
// '#', built in one allocation.
func k(t tenant.Tenant, parts ...string) string {
	n := len(t.Org) + 1 + len(t.Sandbox)
	for _, p := range parts {
		n += 1 + len(p)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(t.Org)
	b.WriteByte('#')
	b.WriteString(t.Sandbox)
	for _, p := range parts {
		b.WriteByte('#')
		b.WriteString(p)
	}
	return b.String()
}

func notFound(what string) error { return derrors.New(derrors.NotFound, "%s not found", what) }

// clone deep-copies a value through JSON, so callers never share maps with
// the store (as with a real database).
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// cloneDoc is clone for what the DynamoDB store keeps as a JSON document
// (audience executions, recurrences): numbers come back as json.Number,
// exact, as they do from there.
func cloneDoc[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		panic(err)
	}
	return out
}
