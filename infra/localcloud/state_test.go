package localcloud

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/google/go-cmp/cmp"
)

// scheduleEnd creates and activates a transactional campaign of the demo
// tenant ending in an hour: activation leaves a pending campaign-end
// schedule in the stack's schedule group.
func scheduleEnd(t *testing.T, api *Client, cfgID string) string {
	t.Helper()
	ctx := context.Background()
	end := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var created struct {
		ID string `json:"id"`
	}
	if err := api.Do(ctx, http.MethodPost, "/campaigns", map[string]any{
		"name": "Ends in an hour", "type": "transactional", "channel": "email", "channelConfigurationId": cfgID,
		"content":  map[string]any{"email": map[string]any{"subject": "Hi", "text": "Hello"}},
		"audience": map[string]any{"namespace": "email"},
		"schedule": map[string]any{"end": end},
	}, http.StatusCreated, &created); err != nil {
		t.Fatal(err)
	}
	if err := api.Do(ctx, http.MethodPost, "/campaigns/"+url.PathEscape(created.ID)+"/activate", nil, http.StatusOK, nil); err != nil {
		t.Fatal(err)
	}
	return created.ID
}

// pendingSchedules lists the schedules of the stack's groups.
func pendingSchedules(t *testing.T, c *Cloud) []string {
	t.Helper()
	sc := scheduler.NewFromConfig(c.AWS)
	var names []string
	for _, g := range c.Stack.ScheduleGroups {
		p := scheduler.NewListSchedulesPaginator(sc, &scheduler.ListSchedulesInput{GroupName: aws.String(g)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.Schedules {
				names = append(names, g+"/"+aws.ToString(s.Name))
			}
		}
	}
	slices.Sort(names)
	return names
}

// countDemos counts the demo tenant's demo campaigns and channel
// configurations.
func countDemos(t *testing.T, api *Client) (campaigns, configs int) {
	t.Helper()
	ctx := context.Background()
	var page struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := api.Do(ctx, http.MethodGet, "/campaigns?tag="+url.QueryEscape(DemoTag), nil, http.StatusOK, &page); err != nil {
		t.Fatal(err)
	}
	campaigns = len(page.Items)
	if err := api.Do(ctx, http.MethodGet, "/channel-configurations?name="+url.QueryEscape(demoConfigName), nil, http.StatusOK, &page); err != nil {
		t.Fatal(err)
	}
	return campaigns, len(page.Items)
}

func TestASecondStartAndSeedDemoKeepTheLocalCloudsState(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startCloud(t)
	demo, err := c.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if demo.Found {
		t.Error("the first SeedDemo on a clean moto says it found the demo")
	}
	api := demo.Client(c.URL)
	scheduleEnd(t, api, demo.ChannelConfigurationID)
	before := pendingSchedules(t, c)
	if len(before) != 1 {
		t.Fatalf("pending schedules after activating a campaign with an end = %v, want one", before)
	}

	// What `make invoke` and a second `make run` on the same moto do: a
	// local cloud starts on it and seeds the demo.
	c2, err := Start(ctx, Options{TemplatePath: "../../template.yaml", Addr: "127.0.0.1:0", MotoURL: c.Moto.URL(), ManualPolling: true, Timing: &FastTiming})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if created := c2.Provisioned.Created; len(created) != 0 {
		t.Errorf("a second Start created %v; want every resource found", created)
	}
	again, err := c2.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Found {
		t.Error("the second SeedDemo does not say it found the demo")
	}
	if again.Found = false; again != demo {
		t.Errorf("second SeedDemo = %+v, want the first demo %+v", again, demo)
	}
	if diff := cmp.Diff(before, pendingSchedules(t, c2)); diff != "" {
		t.Errorf("pending schedules after a second Start and SeedDemo (-before +after):\n%s", diff)
	}
	if camps, cfgs := countDemos(t, api); camps != 1 || cfgs != 1 {
		t.Errorf("after two SeedDemos: %d demo campaigns and %d demo channel configurations, want 1 and 1", camps, cfgs)
	}
}
