package execution

import (
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/tenant"
)

// A call is refused whole, before anything is stored or created, when one
// of its jobs could never be put on the queue: otherwise its idempotency
// and execution records would be stored and every retry would fail.

// unitaryJobs builds the jobs of a unitary execution: its recipients
// travel together, in as few jobs as fit delivery.MaxJobSize — one for
// nearly every call (a call has at most MaxRecipients) — so Dispatch
// reads the campaign, its configuration and the recipients' profiles once
// for all of them and sends to them concurrently, and the trigger queues
// one message, not one per recipient. A job a throttled recipient sends
// back is retried whole; the recipients it already took to their outcome
// are not sent to again (the ledger), only read. Each recipient is
// checked alone against the limit with its profile override and context:
// one that cannot fit a job is a derrors.TooLarge naming it.
func unitaryJobs(t tenant.Tenant, req UnitaryRequest, rec Record, ch campaign.Channel) ([]delivery.Job, error) {
	job := func(rs []delivery.Recipient) delivery.Job {
		return delivery.Job{Tenant: t, ExecutionID: rec.Response.ExecutionID, CampaignID: req.CampaignID,
			Version: rec.Version, Channel: ch, Ledger: delivery.LedgerV2, Recipients: rs}
	}
	// A job's encoding is the empty job's with each recipient's encoding
	// in its list, separated by commas: sizes add up without encoding
	// every candidate job.
	base, err := delivery.EncodedJobSize(job([]delivery.Recipient{}))
	if err != nil {
		return nil, err
	}
	all := make([]delivery.Recipient, len(req.Recipients))
	var (
		f     derrors.Fields
		jobs  []delivery.Job
		start int
		size  = base
	)
	for i, r := range req.Recipients {
		all[i] = r.Delivery()
		n, err := delivery.EncodedJobSize(job(all[i : i+1]))
		if err != nil {
			return nil, fmt.Errorf("recipient %d: %w", i, err)
		}
		if n > delivery.MaxJobSize {
			f.Add(fmt.Sprintf("recipients[%d]", i), "makes a %d-byte delivery job with its profile and context; the limit is %d", n, delivery.MaxJobSize)
			continue
		}
		grown := size + n - base
		if i > start {
			grown++ // the comma
		}
		if grown > delivery.MaxJobSize {
			jobs = append(jobs, job(all[start:i:i]))
			start, grown = i, n
		}
		size = grown
	}
	if len(f) > 0 {
		return nil, tooLarge(f)
	}
	if start < len(all) {
		jobs = append(jobs, job(all[start:]))
	}
	return jobs, nil
}

// CheckFiring checks what a recurring execution fires with, as each
// firing's request will be checked: field errors join f (with the
// caller's own), and, when there are none, its delivery jobs must fit the
// queue.
func (s *AudienceExecutions) CheckFiring(f *derrors.Fields, t tenant.Tenant, context render.Object, audience *AudienceRef) error {
	checkAudienceContext(f, context)
	if audience != nil {
		checkID(f, "audience.id", audience.ID)
	}
	if err := f.Err(); err != nil {
		return err
	}
	return checkAudienceJobs(t, "context", context, cmpOr(s.JobSize, DefaultJobSize))
}

// checkAudienceContext checks an audience execution's context: no
// reserved member, within MaxContextSize.
func checkAudienceContext(f *derrors.Fields, context render.Object) {
	if context.Has("system") {
		f.Add("context.system", "is reserved")
	}
	if n := context.Size(); !context.IsZero() && n > MaxContextSize {
		f.Add("context", "is %d bytes; the limit is %d", n, MaxContextSize)
	}
}

// checkAudienceJobs checks the largest job an audience fan-out can make
// with context (field names it in the error): jobSize members, each with
// the longest identity a member may have, and the shared context.
func checkAudienceJobs(t tenant.Tenant, field string, context render.Object, jobSize int) error {
	// A 256-byte id of quotes encodes to 512 bytes; no other character
	// an identity may hold grows more.
	longest := delivery.Recipient{Type: delivery.TypeAEP, UserID: strings.Repeat(`"`, maxIDLen), Namespace: strings.Repeat("n", 64)}
	j := delivery.Job{Tenant: t, ExecutionID: strings.Repeat("x", 64), CampaignID: strings.Repeat("x", maxIDLen),
		Version: 1 << 30, Context: context, Recipients: make([]delivery.Recipient, jobSize)}
	for i := range j.Recipients {
		j.Recipients[i] = longest
	}
	n, err := delivery.EncodedJobSize(j)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if n > delivery.MaxJobSize {
		var f derrors.Fields
		f.Add(field, "would make delivery jobs of up to %d bytes with %d members each; the limit is %d", n, jobSize, delivery.MaxJobSize)
		return tooLarge(f)
	}
	return nil
}

func tooLarge(f derrors.Fields) error {
	return &derrors.Error{Kind: derrors.TooLarge, Detail: "a delivery job would be over the dispatch queue's message limit; nothing was stored or sent", Fields: f}
}
