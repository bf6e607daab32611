package execution

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memo"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/tracing"
)

// IdempotencyTTL is how long a requestId is remembered by default: a
// deployment's retention setting (config.Retention.Idempotency) replaces
// it in the DynamoDB store.
const IdempotencyTTL = 7 * 24 * time.Hour

// Response is the 202 body of an execution call (imExecutionResponse).
type Response struct {
	ExecutionID string    `json:"executionId"`
	RequestID   string    `json:"requestId"`
	CreatedAt   time.Time `json:"createdAt"`
	CreatedBy   string    `json:"createdBy"`
	ModifiedAt  time.Time `json:"modifiedAt"`
	ModifiedBy  string    `json:"modifiedBy"`
}

// Execution is the stored record of one accepted call.
type Execution struct {
	ID             string
	Kind           string // "unitary"
	RequestID      string
	CampaignID     string
	Version        int
	RecipientCount int
	CreatedAt      time.Time
	CreatedBy      string
	// CampaignRevision, when not 0, is the revision of the campaign the
	// execution was accepted on, read from the warm function's cache:
	// Begin stores nothing unless the campaign is still at it. It is not
	// stored.
	CampaignRevision int
}

// Record is what the idempotency store keeps for a requestId.
type Record struct {
	RequestID string
	// BodyHash is the SHA-256 of the request's canonical JSON.
	BodyHash string
	Response Response
	// Version is the campaign version the execution uses.
	Version int
	// Enqueued is set once every job is on the queue.
	Enqueued  bool
	ExpiresAt time.Time
}

// RecordStore keeps executions and idempotency records.
type RecordStore interface {
	// GetRecord returns the record for requestId, or derrors.NotFound.
	GetRecord(ctx context.Context, t tenant.Tenant, requestID string) (Record, error)
	// Begin stores rec and ex in one transaction, provided no record for
	// rec.RequestID exists (derrors.Conflict otherwise) and, when
	// ex.CampaignRevision is not 0, campaign ex.CampaignID is still at
	// that revision (derrors.Precondition otherwise: it changed or is
	// gone). A request already recorded is the Conflict, whatever the
	// campaign.
	Begin(ctx context.Context, t tenant.Tenant, rec Record, ex Execution) error
	// MarkEnqueued sets the record's Enqueued flag.
	MarkEnqueued(ctx context.Context, t tenant.Tenant, requestID string) error
}

// Campaigns reads campaigns and their versions.
type Campaigns interface {
	GetCampaign(ctx context.Context, t tenant.Tenant, id string) (campaign.Campaign, error)
	GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (campaign.Version, error)
}

// Profiles checks and creates the profiles of "aep" recipients.
type Profiles interface {
	BatchGet(ctx context.Context, t tenant.Tenant, ids []profile.Identity) (map[profile.Identity]profile.Profile, error)
	CreateIfAbsent(ctx context.Context, t tenant.Tenant, p profile.Profile) error
}

// Queue hands jobs to Dispatch.
type Queue interface {
	// Enqueue puts every job on the dispatch queue, each held back by
	// its Delay, or returns an error (some may have been put: Dispatch's
	// ledger makes a repeat harmless).
	Enqueue(ctx context.Context, jobs []delivery.Job) error
}

// Unitary runs unitary executions (POST /im/executions/unitary).
type Unitary struct {
	Store     RecordStore
	Campaigns Campaigns
	Profiles  Profiles
	Queue     Queue
	// Schemas checks contexts against the campaigns' context schemas
	// (contextschema.Compiler); a campaign with a schema is refused
	// without it.
	Schemas campaign.Schemas
	Log     *slog.Logger
	Now     func() time.Time
	NewID   func() string
	// versions caches the campaign versions this warm function read.
	versions versionCache
	// campaigns caches, for CampaignCacheTTL, the live campaigns it read.
	campaigns campaignCache
}

func (s *Unitary) now() time.Time { return clock(s.Now) }

// Execute runs POST /im/executions/unitary for an already decoded and
// validated request, on behalf of the key createdBy.
//
// The same requestId with the same body returns the first response and
// sends nothing more; with another body it is a derrors.Conflict. Only a
// live campaign inside its schedule can be triggered. A recipient whose
// job (with its profile override and context) would be over the queue's
// message limit is a derrors.TooLarge naming it, and nothing is stored.
// Unknown "aep" profiles are created when the campaign allows it;
// otherwise the whole call is refused (derrors.NotFound naming them) and
// nothing is sent.
//
// A warm function makes four round trips before its 202: the
// idempotency record's GetItem and the profiles' BatchGetItem at once
// (the campaign comes from the cache, its version from the version
// cache), the TransactWriteItems that stores record and execution, the
// SendMessageBatch calls at once, and the UpdateItem that marks the
// record enqueued.
func (s *Unitary) Execute(ctx context.Context, t tenant.Tenant, createdBy string, req UnitaryRequest) (Response, error) {
	return s.execute(ctx, t, createdBy, req, false)
}

// ExecuteHighThroughput runs POST /im/executions/highthroughput for a
// decoded request that ValidateHighThroughput accepted: Execute for a
// campaign marked highThroughput, with its path cut to the fewest AWS
// calls — no profile is read or created, the idempotency record is not
// read first (the conditional write that stores it finds a repeat, which
// is then answered from the record), and the campaign's live version,
// immutable, is read once per warm function. Before its 202 a warm
// function makes three round trips: one TransactWriteItems (record,
// execution and the cached campaign revision's check), the
// SendMessageBatch calls (one per ten recipients) at once and the
// UpdateItem that marks the record enqueued; a cold one (or one whose
// cache is past CampaignCacheTTL) reads the campaign first.
func (s *Unitary) ExecuteHighThroughput(ctx context.Context, t tenant.Tenant, createdBy string, req UnitaryRequest) (Response, error) {
	return s.execute(ctx, t, createdBy, req, true)
}

func (s *Unitary) execute(ctx context.Context, t tenant.Tenant, createdBy string, req UnitaryRequest, highThroughput bool) (Response, error) {
	hash := req.bodyHash()
	resp, err := s.attempt(ctx, t, createdBy, req, hash, highThroughput, false)
	if errors.Is(err, errCampaignChanged) {
		// The cached campaign was stale: read it again, as a cold
		// function would.
		resp, err = s.attempt(ctx, t, createdBy, req, hash, highThroughput, true)
	}
	annotate(ctx, req.CampaignID, resp.ExecutionID)
	return resp, err
}

// errCampaignChanged is what attempt returns when Begin found the campaign
// no longer at the cached revision: nothing was stored.
var errCampaignChanged = errors.New("the cached campaign changed")

// attempt runs one trigger. Its reads — the idempotency record, the
// campaign (unless fresh, from the warm function's cache) and the
// profiles — run in parallel: one round trip.
func (s *Unitary) attempt(ctx context.Context, t tenant.Tenant, createdBy string, req UnitaryRequest, hash string, highThroughput, fresh bool) (Response, error) {
	var (
		wg                 sync.WaitGroup
		replayed           Response
		done               bool
		replayErr, profErr error
		found              map[profile.Identity]profile.Profile
	)
	ids := aepIdentities(req.Recipients)
	if !highThroughput {
		wg.Go(func() { replayed, done, replayErr = s.replay(ctx, t, req, hash) })
		if len(ids) > 0 {
			wg.Go(func() { found, profErr = s.Profiles.BatchGet(ctx, t, ids) })
		}
	}
	v, live, err := s.liveVersion(ctx, t, req.CampaignID, highThroughput, fresh)
	wg.Wait()
	if done || replayErr != nil {
		return replayed, replayErr
	}
	if err != nil {
		if k := derrors.KindOf(err); highThroughput && (k == derrors.Conflict || k == derrors.NotFound) {
			// A repeat of a call accepted before the campaign stopped
			// still gets its first answer.
			if resp, done, rerr := s.replay(ctx, t, req, hash); done || rerr != nil {
				return resp, rerr
			}
		}
		return Response{}, err
	}
	var f derrors.Fields
	for i, r := range req.Recipients {
		if len(v.Spec.ContextSchema) == 0 {
			break // nothing to check: the context stays undecoded into maps
		}
		if err := v.CheckContext(s.Schemas, &f, fmt.Sprintf("recipients[%d].context", i), r.Context.Map()); err != nil {
			return Response{}, err
		}
	}
	if err := f.Err(); err != nil {
		return Response{}, err
	}
	now := s.now()
	id := newID(s.NewID)
	resp := Response{ExecutionID: id, RequestID: req.RequestID, CreatedAt: now, CreatedBy: createdBy, ModifiedAt: now, ModifiedBy: createdBy}
	rec := Record{RequestID: req.RequestID, BodyHash: hash, Response: resp, Version: v.Number, ExpiresAt: now.Add(IdempotencyTTL)}
	ex := Execution{ID: id, Kind: "unitary", RequestID: req.RequestID, CampaignID: req.CampaignID,
		Version: v.Number, RecipientCount: len(req.Recipients), CreatedAt: now, CreatedBy: createdBy}
	if live.cached {
		ex.CampaignRevision = live.revision
	}
	// Every job must fit on the queue before anything is stored or created.
	jobs, err := unitaryJobs(t, req, rec, v.Channel)
	if err != nil {
		return Response{}, err
	}
	if !highThroughput && len(ids) > 0 {
		if profErr != nil {
			return Response{}, fmt.Errorf("read profiles: %w", profErr)
		}
		if err := s.createMissing(ctx, t, v, ids, found); err != nil {
			return Response{}, err
		}
	}
	err = s.Store.Begin(ctx, t, rec, ex)
	if derrors.Is(err, derrors.Conflict) {
		// A concurrent identical (or conflicting) call got there first.
		resp, _, err := s.replay(ctx, t, req, hash)
		return resp, err
	}
	if derrors.Is(err, derrors.Precondition) && ex.CampaignRevision != 0 {
		s.campaigns.drop(t, req.CampaignID)
		return Response{}, errCampaignChanged
	}
	if err != nil {
		return Response{}, fmt.Errorf("record execution: %w", err)
	}
	if err := s.enqueue(ctx, t, req.RequestID, rec, jobs); err != nil {
		return Response{}, err
	}
	s.log().InfoContext(ctx, "execution accepted", "executionId", id, "campaignId", req.CampaignID,
		"version", v.Number, "recipients", len(req.Recipients), "tenant", t.String())
	return resp, nil
}

// replay answers a requestId seen before. done reports that the call has
// been answered (by the first response, or with a conflict).
func (s *Unitary) replay(ctx context.Context, t tenant.Tenant, req UnitaryRequest, hash string) (Response, bool, error) {
	rec, err := s.Store.GetRecord(ctx, t, req.RequestID)
	if derrors.Is(err, derrors.NotFound) {
		return Response{}, false, nil
	}
	if err != nil {
		return Response{}, true, fmt.Errorf("read request %s: %w", req.RequestID, err)
	}
	if rec.BodyHash != hash {
		return Response{}, true, derrors.New(derrors.Conflict, "requestId %q was already used with a different body", req.RequestID)
	}
	if !rec.Enqueued {
		// The first call stopped between recording and queueing (or is
		// still queueing): queue again; the ledger drops duplicates.
		jobs, err := unitaryJobs(t, req, rec, "")
		if err != nil {
			return Response{}, true, fmt.Errorf("rebuild the jobs of %s: %w", rec.Response.ExecutionID, err)
		}
		if err := s.enqueue(ctx, t, req.RequestID, rec, jobs); err != nil {
			return Response{}, true, err
		}
	}
	return rec.Response, true, nil
}

// liveVersion returns the version a trigger of type want must use at
// `at`: the campaign's live version, if campaign.CheckLive and
// Version.CheckTrigger (the one rule) allow it.
func liveVersion(ctx context.Context, cs Campaigns, t tenant.Tenant, campaignID string, want campaign.Type, highThroughput bool, at time.Time) (campaign.Version, error) {
	c, err := readLive(ctx, cs, t, campaignID)
	if err != nil {
		return campaign.Version{}, err
	}
	return checkedVersion(ctx, cs, t, campaignID, c.LiveVersion, want, highThroughput, at)
}

// readLive reads campaign campaignID and checks it is live
// (campaign.CheckLive).
func readLive(ctx context.Context, cs Campaigns, t tenant.Tenant, campaignID string) (campaign.Campaign, error) {
	c, err := cs.GetCampaign(ctx, t, campaignID)
	if derrors.Is(err, derrors.NotFound) {
		return c, derrors.New(derrors.NotFound, "campaign %q not found", campaignID)
	}
	if err != nil {
		return c, fmt.Errorf("read campaign %s: %w", campaignID, err)
	}
	return c, c.CheckLive()
}

// checkedVersion reads version number of the campaign and checks a
// trigger may use it (Version.CheckTrigger).
func checkedVersion(ctx context.Context, cs Campaigns, t tenant.Tenant, campaignID string, number int, want campaign.Type, highThroughput bool, at time.Time) (campaign.Version, error) {
	v, err := cs.GetVersion(ctx, t, campaignID, number)
	if err != nil {
		return campaign.Version{}, fmt.Errorf("read campaign %s version %d: %w", campaignID, number, err)
	}
	if err := v.CheckTrigger(want, highThroughput, at); err != nil {
		return campaign.Version{}, err
	}
	return v, nil
}

// liveVersion is the package's liveVersion for a unitary trigger, with
// the campaign read through the warm function's campaign cache (unless
// fresh) and versions through its version cache. live says which
// revision of the campaign allowed it, and whether it came from the
// cache.
func (s *Unitary) liveVersion(ctx context.Context, t tenant.Tenant, campaignID string, highThroughput, fresh bool) (campaign.Version, liveCampaign, error) {
	now := s.now()
	live, ok := liveCampaign{}, false
	if !fresh {
		live, ok = s.campaigns.get(t, campaignID, now)
	}
	if !ok {
		c, err := readLive(ctx, s.Campaigns, t, campaignID)
		if err != nil {
			s.campaigns.drop(t, campaignID)
			return campaign.Version{}, live, err
		}
		live = liveCampaign{version: c.LiveVersion, revision: c.Revision}
		s.campaigns.put(t, campaignID, live, now)
	}
	v, err := checkedVersion(ctx, cachedVersions{s.Campaigns, &s.versions}, t, campaignID, live.version, campaign.Transactional, highThroughput, now)
	return v, live, err
}

// maxCachedVersions bounds a warm function's version cache; past it the
// cache starts again empty.
const maxCachedVersions = 512

// versionCache keeps the campaign versions a warm function has read. A
// version never changes once activated, and a trigger reads its campaign
// (live or not, which version) every time, so a cached version is never
// stale.
type versionCache = memo.Map[versionKey, campaign.Version]

type versionKey struct {
	tenant, campaignID string
	number             int
}

// cachedVersions is Campaigns with GetVersion answered from the cache.
type cachedVersions struct {
	Campaigns
	cache *versionCache
}

func (c cachedVersions) GetVersion(ctx context.Context, t tenant.Tenant, campaignID string, number int) (campaign.Version, error) {
	return c.cache.Get(versionKey{t.Key(), campaignID, number}, maxCachedVersions, func() (campaign.Version, error) {
		return c.Campaigns.GetVersion(ctx, t, campaignID, number)
	})
}

// aepIdentities are the profiles of the "aep" recipients.
func aepIdentities(rs []Recipient) []profile.Identity {
	var ids []profile.Identity
	for _, r := range rs {
		if r.Type == delivery.TypeAEP {
			ids = append(ids, profile.Identity{Namespace: r.Namespace, ID: r.UserID})
		}
	}
	return ids
}

// createMissing creates the profiles of ids that were not found, when the
// version allows it; otherwise it refuses the call naming them.
func (s *Unitary) createMissing(ctx context.Context, t tenant.Tenant, v campaign.Version, ids []profile.Identity, found map[profile.Identity]profile.Profile) error {
	var missing []profile.Identity
	for _, id := range ids {
		if _, ok := found[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !v.Spec.Audience.CreateProfiles {
		names := make([]string, len(missing))
		for i, id := range missing {
			names[i] = id.ID
		}
		slices.Sort(names)
		return derrors.New(derrors.NotFound, "no profile for userIds %s; nothing was sent (the campaign does not create profiles)", strings.Join(names, ", "))
	}
	now := s.now()
	for _, id := range missing {
		p := profile.Profile{Namespace: id.Namespace, ID: id.ID, Attributes: map[string]any{},
			Identities: map[string]string{id.Namespace: id.ID}, CreatedAt: now, UpdatedAt: now}
		if err := s.Profiles.CreateIfAbsent(ctx, t, p); err != nil {
			return fmt.Errorf("create profile: %w", err)
		}
	}
	return nil
}

// enqueue puts the execution's jobs on the queue and marks the record
// enqueued.
func (s *Unitary) enqueue(ctx context.Context, t tenant.Tenant, requestID string, rec Record, jobs []delivery.Job) error {
	if err := s.Queue.Enqueue(ctx, jobs); err != nil {
		return fmt.Errorf("enqueue execution %s: %w", rec.Response.ExecutionID, err)
	}
	if err := s.Store.MarkEnqueued(ctx, t, requestID); err != nil {
		return fmt.Errorf("mark execution %s enqueued: %w", rec.Response.ExecutionID, err)
	}
	return nil
}

func (s *Unitary) log() *slog.Logger { return logger(s.Log) }

// annotate marks the invocation's trace with the execution it started or
// answered for: X-Ray finds it by annotation.executionId or
// annotation.campaignId.
func annotate(ctx context.Context, campaignID, executionID string) {
	tracing.Annotate(ctx, "campaignId", campaignID)
	tracing.Annotate(ctx, "executionId", executionID)
}
