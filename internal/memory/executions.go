package memory

import (
	"context"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/execution"
	"github.com/heraldhq/herald/internal/tenant"
)

var _ execution.RecordStore = (*Store)(nil)

// GetRecord implements execution.RecordStore.
func (s *Store) GetRecord(_ context.Context, t tenant.Tenant, requestID string) (execution.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[k(t, requestID)]
	if !ok {
		return r, notFound("request")
	}
	return r, nil
}

// Begin implements execution.RecordStore.
func (s *Store) Begin(_ context.Context, t tenant.Tenant, rec execution.Record, ex execution.Execution) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[k(t, rec.RequestID)]; ok {
		return derrors.New(derrors.Conflict, "request %q already exists", rec.RequestID)
	}
	if ex.CampaignRevision != 0 {
		if c, ok := s.campaigns[k(t, ex.CampaignID)]; !ok || c.Revision != ex.CampaignRevision {
			return derrors.New(derrors.Precondition, "campaign %s changed", ex.CampaignID)
		}
	}
	s.records[k(t, rec.RequestID)] = rec
	s.executions[k(t, ex.ID)] = ex
	return nil
}

// MarkEnqueued implements execution.RecordStore.
func (s *Store) MarkEnqueued(_ context.Context, t tenant.Tenant, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[k(t, requestID)]
	r.Enqueued = true
	s.records[k(t, requestID)] = r
	return nil
}

// Executions returns the number of stored executions.
func (s *Store) Executions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.executions)
}
