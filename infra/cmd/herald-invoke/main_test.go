//go:build unix

package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

const template = "../../../template.yaml"

var discard = slog.New(slog.DiscardHandler)

// state is what a local cloud holds that `make invoke` must not change:
// the pending schedules and the demo campaigns.
type state struct {
	Schedules     []string
	DemoCampaigns []string
}

func snapshot(t *testing.T, moto *motoserver.Server, stack *localcloud.Stack, api *localcloud.Client) state {
	t.Helper()
	ctx := context.Background()
	var s state
	sc := scheduler.NewFromConfig(moto.AWSConfig())
	for _, g := range stack.ScheduleGroups {
		out, err := sc.ListSchedules(ctx, &scheduler.ListSchedulesInput{GroupName: aws.String(g)})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range out.Schedules {
			s.Schedules = append(s.Schedules, g+"/"+aws.ToString(x.Name))
		}
	}
	var page struct{ Items []struct{ ID string } }
	if err := api.Do(ctx, http.MethodGet, "/campaigns?tag="+localcloud.DemoTag, nil, http.StatusOK, &page); err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Items {
		s.DemoCampaigns = append(s.DemoCampaigns, c.ID)
	}
	slices.Sort(s.Schedules)
	slices.Sort(s.DemoCampaigns)
	return s
}

// captureSteps collects what step prints while f runs.
func captureSteps(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	func() {
		defer func() { os.Stderr = old }()
		f()
	}()
	w.Close()
	return <-done
}

func TestInvokeAttachesToALocalCloudWithoutChangingIt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	moto := motoserver.Shared(t)
	if err := moto.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	// `make run`: a local cloud with the demo, and a campaign whose end
	// is a pending schedule.
	running, err := localcloud.Start(ctx, localcloud.Options{TemplatePath: template, Addr: "127.0.0.1:0", MotoURL: moto.URL(), Log: discard, ManualPolling: true})
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()
	demo, err := running.SeedDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api := demo.Client(running.URL)
	var created struct{ ID string }
	if err := api.Do(ctx, http.MethodPost, "/campaigns", map[string]any{
		"name": "Ends in an hour", "type": "transactional", "channel": "email", "channelConfigurationId": demo.ChannelConfigurationID,
		"content":  map[string]any{"email": map[string]any{"subject": "Hi", "text": "Hello"}},
		"audience": map[string]any{"namespace": "email"},
		"schedule": map[string]any{"end": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
	}, http.StatusCreated, &created); err != nil {
		t.Fatal(err)
	}
	if err := api.Do(ctx, http.MethodPost, "/campaigns/"+url.PathEscape(created.ID)+"/activate", nil, http.StatusOK, nil); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, moto, running.Stack, api)
	if len(before.Schedules) != 1 || len(before.DemoCampaigns) != 1 {
		t.Fatalf("before make invoke: %+v; want one schedule and one demo campaign", before)
	}

	t.Run("a running local cloud is attached as it is", func(t *testing.T) {
		var tgt *target
		var err error
		out := captureSteps(t, func() { tgt, err = attach(ctx, running.URL, moto.URL(), template, discard, io.Discard) })
		if err != nil {
			t.Fatal(err)
		}
		defer tgt.close()
		if !tgt.attached || !strings.Contains(out, "attached to the running local cloud") || !strings.Contains(out, "nothing created, nothing seeded") {
			t.Errorf("attach printed %q (attached %v); want it to say it attached and changed nothing", out, tgt.attached)
		}
		want := demo
		want.Found = true
		if diff := cmp.Diff(want, tgt.demo); diff != "" {
			t.Errorf("demo found on the running local cloud (-want +got):\n%s", diff)
		}
		if got := tgt.stack.Functions["TriggerFunction"].Env["HERALD_TABLE"]; got != running.Config.Table {
			t.Errorf("TriggerFunction's table = %q, want the running cloud's %q", got, running.Config.Table)
		}
		if diff := cmp.Diff(before, snapshot(t, moto, running.Stack, api)); diff != "" {
			t.Errorf("make invoke changed the local cloud (-before +after):\n%s", diff)
		}
	})

	t.Run("a moto without its local cloud keeps its state and demo", func(t *testing.T) {
		running.Close() // `make run` stopped; its moto (here, the test's) still runs
		var tgt *target
		var err error
		out := captureSteps(t, func() { tgt, err = attach(ctx, running.URL, moto.URL(), template, discard, io.Discard) })
		if err != nil {
			t.Fatal(err)
		}
		defer tgt.close()
		if tgt.attached || !strings.Contains(out, "using the moto at "+moto.URL()) || !strings.Contains(out, " 0 created, demo found") {
			t.Errorf("attach printed %q; want it to say it used the moto and created nothing", out)
		}
		if tgt.demo.CampaignID != demo.CampaignID {
			t.Errorf("demo campaign = %s, want the existing %s", tgt.demo.CampaignID, demo.CampaignID)
		}
		if diff := cmp.Diff(before, snapshot(t, moto, tgt.stack, tgt.demo.Client(tgt.apiURL))); diff != "" {
			t.Errorf("make invoke changed the local cloud (-before +after):\n%s", diff)
		}
	})
}
