package status

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/tenant"
)

// Parked reads an execution's parked jobs (delivery.Parking).
type Parked interface {
	Parked(ctx context.Context, t tenant.Tenant, executionID string) ([]delivery.ParkedJob, error)
}

// deferred counts the recipients of an execution's jobs parked by quiet
// hours until their window ends (delivery.ReasonQuietHours).
func (s *Service) deferred(ctx context.Context, t tenant.Tenant, id string) (int64, error) {
	parked, err := s.Parked.Parked(ctx, t, id)
	if err != nil {
		return 0, fmt.Errorf("read deferred jobs of %s: %w", id, err)
	}
	var n int64
	for _, p := range parked {
		if p.Reason == delivery.ReasonQuietHours {
			n += int64(len(p.Job.Recipients))
		}
	}
	return n, nil
}
