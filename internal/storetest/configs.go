package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
)

func runConfigs(t *testing.T, newStore func(t *testing.T) campaign.Store) {
	ctx := context.Background()
	cfg := emailConfig("cfg", "Mail", t0)
	t.Run("a created configuration is read back as created, in its tenant only, and created once", func(t *testing.T) {
		s, _ := setUp(t, newStore)
		got, err := s.GetConfig(ctx, acme, "cfg")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(cfg, got); diff != "" {
			t.Errorf("GetConfig (-want +got):\n%s", diff)
		}
		wantKind(t, "second CreateConfig", s.CreateConfig(ctx, acme, emailConfig("cfg", "Other", t0)), derrors.Conflict)
		if got, _ := s.GetConfig(ctx, acme, "cfg"); got.Name != cfg.Name {
			t.Errorf("name after a refused create = %q, want %q", got.Name, cfg.Name)
		}
		_, err = s.GetConfig(ctx, other, "cfg")
		wantKind(t, "another tenant's GetConfig", err, derrors.NotFound)
		_, err = s.GetConfig(ctx, acme, "cfg2")
		wantKind(t, "GetConfig(unknown)", err, derrors.NotFound)
	})
	t.Run("tracking choices are stored as given: on, off, or absent to follow the category", func(t *testing.T) {
		on, off := true, false
		tests := []struct {
			name          string
			opens, clicks *bool
		}{
			{"both off", &off, &off},
			{"opens on and clicks off", &on, &off},
			{"opens absent and clicks on", nil, &on},
			{"both absent", nil, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, _ := setUp(t, newStore)
				c := emailConfig("cfg-track", "Tracked", t0)
				c.Email.TrackOpens, c.Email.TrackClicks = tt.opens, tt.clicks
				if err := s.CreateConfig(ctx, acme, c); err != nil {
					t.Fatal(err)
				}
				got, err := s.GetConfig(ctx, acme, "cfg-track")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(c, got); diff != "" {
					t.Errorf("GetConfig (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("update replaces a configuration only from its current revision", func(t *testing.T) {
		tests := []struct {
			name string
			id   string
			prev int
			want derrors.Kind
		}{
			{"the current revision replaces it", "cfg", 1, noError},
			{"a stale revision is a failed precondition", "cfg", 0, derrors.Precondition},
			{"an unknown configuration is not found", "cfg2", 1, derrors.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, _ := setUp(t, newStore)
				upd := cfg
				upd.ID, upd.Name, upd.Revision, upd.UpdatedAt = tt.id, "Mail 2", 2, t0.Add(time.Second)
				upd.Email = &campaign.EmailSettings{FromAddress: "news@acme.example", SendToSuppressed: true}
				wantKind(t, "UpdateConfig", s.UpdateConfig(ctx, acme, upd, tt.prev), tt.want)
				want := cfg
				if tt.want == noError {
					want = upd
				}
				got, err := s.GetConfig(ctx, acme, "cfg")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("stored after UpdateConfig (-want +got):\n%s", diff)
				}
			})
		}
	})
	t.Run("an update keeps the channel, category and creation time a configuration was created with", func(t *testing.T) {
		s, _ := setUp(t, newStore)
		upd := cfg
		upd.Name, upd.Revision, upd.UpdatedAt = "Mail 2", 2, t0.Add(time.Second)
		upd.Channel, upd.Category, upd.CreatedAt = campaign.SMS, campaign.Marketing, t0.Add(time.Hour)
		if err := s.UpdateConfig(ctx, acme, upd, 1); err != nil {
			t.Fatal(err)
		}
		want := cfg
		want.Name, want.Revision, want.UpdatedAt = "Mail 2", 2, t0.Add(time.Second)
		got, err := s.GetConfig(ctx, acme, "cfg")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored after UpdateConfig (-want +got):\n%s", diff)
		}
	})
	t.Run("delete asks who used the configuration and refuses while one does", func(t *testing.T) {
		errCheck := errors.New("usage check failed")
		tests := []struct {
			name     string
			activate []string // campaigns activated with cfg first
			prev     int
			user     string // what inUse answers
			inUseErr error
			want     derrors.Kind // Internal: an error of no kind
			asked    []string     // the ids inUse is asked about (nil: not asked)
		}{
			{name: "an unused configuration is deleted", prev: 1, want: noError, asked: []string{}},
			{name: "a used configuration no campaign still uses is deleted", activate: []string{"c1", "c2"}, prev: 1, want: noError, asked: []string{"c1", "c2"}},
			{name: "a configuration a campaign still uses is a conflict", activate: []string{"c1", "c2"}, prev: 1, user: "c2", want: derrors.Conflict, asked: []string{"c1", "c2"}},
			{name: "a stale revision is a failed precondition", prev: 0, want: derrors.Precondition},
			{name: "the usage check's failure is returned", activate: []string{"c1"}, prev: 1, inUseErr: errCheck, want: derrors.Internal, asked: []string{"c1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, _ := setUp(t, newStore)
				for _, id := range tt.activate {
					c := draftCampaign(id, id, t0)
					if id != "c1" {
						if err := s.CreateCampaign(ctx, acme, c); err != nil {
							t.Fatal(err)
						}
					}
					live, v := activated(c, 1)
					if err := s.Activate(ctx, acme, live, v, c.Revision); err != nil {
						t.Fatal(err)
					}
				}
				var asked []string
				err := s.DeleteConfig(ctx, acme, "cfg", tt.prev, func(ids []string) (string, error) {
					asked = append(slices.Sorted(slices.Values(ids)), asked...)
					return tt.user, tt.inUseErr
				})
				wantKind(t, "DeleteConfig", err, tt.want)
				if tt.inUseErr != nil && !errors.Is(err, tt.inUseErr) {
					t.Errorf("DeleteConfig = %v, want the usage check's error", err)
				}
				if tt.asked != nil && asked == nil {
					asked = []string{}
				}
				if diff := cmp.Diff(tt.asked, asked); diff != "" {
					t.Errorf("campaigns inUse was asked about (-want +got):\n%s", diff)
				}
				_, err = s.GetConfig(ctx, acme, "cfg")
				if tt.want == noError {
					wantKind(t, "GetConfig after DeleteConfig", err, derrors.NotFound)
				} else {
					wantKind(t, "GetConfig after a refused DeleteConfig", err, noError)
				}
			})
		}
	})
	t.Run("an unknown configuration is not found by delete", func(t *testing.T) {
		s, _ := setUp(t, newStore)
		err := s.DeleteConfig(ctx, acme, "cfg2", 1, func([]string) (string, error) { return "", nil })
		wantKind(t, "DeleteConfig(unknown)", err, derrors.NotFound)
		err = s.DeleteConfig(ctx, other, "cfg", 1, func([]string) (string, error) { return "", nil })
		wantKind(t, "another tenant's DeleteConfig", err, derrors.NotFound)
	})
	t.Run("an activation while usage is checked makes delete fail", func(t *testing.T) {
		s, c := setUp(t, newStore)
		err := s.DeleteConfig(ctx, acme, "cfg", 1, func([]string) (string, error) {
			live, v := activated(c, 1)
			if err := s.Activate(ctx, acme, live, v, c.Revision); err != nil {
				t.Errorf("Activate while usage is checked: %v", err)
			}
			return "", nil
		})
		wantKind(t, "DeleteConfig", err, derrors.Precondition)
		if _, err := s.GetConfig(ctx, acme, "cfg"); err != nil {
			t.Errorf("GetConfig after the refused delete = %v, want the configuration", err)
		}
	})
	t.Run("a deleted configuration's id can be created again, unused", func(t *testing.T) {
		s, c := setUp(t, newStore)
		live, v := activated(c, 1)
		if err := s.Activate(ctx, acme, live, v, c.Revision); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteConfig(ctx, acme, "cfg", 1, func([]string) (string, error) { return "", nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateConfig(ctx, acme, cfg); err != nil {
			t.Fatal(err)
		}
		var asked []string
		if err := s.DeleteConfig(ctx, acme, "cfg", 1, func(ids []string) (string, error) { asked = ids; return "", nil }); err != nil {
			t.Fatal(err)
		}
		if len(asked) != 0 {
			t.Errorf("the new configuration's users = %v, want none", asked)
		}
	})
	t.Run("configurations are stored and returned as copies", func(t *testing.T) {
		s := newStore(t)
		c := emailConfig("cfg", "Mail", t0)
		if err := s.CreateConfig(ctx, acme, c); err != nil {
			t.Fatal(err)
		}
		c.Email.FromAddress = "changed@acme.example"
		got, err := s.GetConfig(ctx, acme, "cfg")
		if err != nil {
			t.Fatal(err)
		}
		got.Email.FromName = "changed by a reader"
		again, _ := s.GetConfig(ctx, acme, "cfg")
		if diff := cmp.Diff(emailConfig("cfg", "Mail", t0), again); diff != "" {
			t.Errorf("configuration after callers changed their copies (-want +got):\n%s", diff)
		}
	})
}
