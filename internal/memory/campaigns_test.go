package memory_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestCampaignStoreContract(t *testing.T) {
	storetest.Campaigns(t, func(*testing.T) campaign.Store { return memory.New() })
}
