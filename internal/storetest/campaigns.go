package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
)

// emailConfig is a configuration created at at.
func emailConfig(id, name string, at time.Time) campaign.ChannelConfig {
	return campaign.ChannelConfig{ID: id, Name: name, Channel: campaign.Email, Category: campaign.Transactional,
		Email: &campaign.EmailSettings{FromName: "Acme", FromAddress: "orders@acme.example", ReplyTo: []string{"help@acme.example"},
			DefaultLocale: "en-GB"},
		Revision: 1, CreatedAt: at, UpdatedAt: at}
}

// draftCampaign is a draft email campaign sending through configuration
// "cfg", created at at.
func draftCampaign(id, name string, at time.Time, tags ...string) campaign.Campaign {
	start := at.Add(time.Hour)
	return campaign.Campaign{ID: id, Name: name, Tags: tags, Type: campaign.Transactional, Channel: campaign.Email,
		Status: campaign.StatusDraft, DraftPending: true, Revision: 1, CreatedAt: at, UpdatedAt: at,
		Draft: campaign.Spec{ChannelConfigID: "cfg",
			Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Hi {{profile.name}}", HTML: "<p>Hi</p>"},
				Variants: map[string]campaign.Variant{"fr-CA": {Email: &campaign.EmailContent{Subject: "Allô {{profile.name}}", Text: "Allô"}}},
				Experiment: &campaign.Experiment{Treatments: []campaign.Treatment{{Name: "control", Percent: 45.5},
					{Name: "B", Percent: 45.5, Email: &campaign.EmailContent{Subject: "Hey {{profile.name}}", HTML: "<p>Hey</p>"},
						Variants: map[string]campaign.Variant{"fr": {Email: &campaign.EmailContent{Subject: "Salut", Text: "Salut"}}}}}}},
			Audience:      campaign.Audience{Namespace: "email", CreateProfiles: true},
			Schedule:      campaign.Schedule{Start: &start},
			ContextSchema: json.RawMessage(`{"type":"object"}`)}}
}

// activated is c live at version n, and that version.
func activated(c campaign.Campaign, n int) (campaign.Campaign, campaign.Version) {
	v := campaign.Version{CampaignID: c.ID, Number: n, Type: c.Type, Channel: c.Channel, Spec: c.Draft, ActivatedAt: c.UpdatedAt.Add(time.Minute)}
	c.Status, c.LiveVersion, c.DraftPending, c.Revision, c.UpdatedAt = campaign.StatusLive, n, false, c.Revision+1, v.ActivatedAt
	return c, v
}

// Campaigns runs the campaign.Store contract (campaigns, versions and
// channel configurations); newStore returns a fresh, empty store.
func Campaigns(t *testing.T, newStore func(t *testing.T) campaign.Store) {
	runCampaigns(t, newStore)
	runConfigs(t, newStore)
	runLists(t, newStore)
}

// setUp returns a store holding configuration "cfg" and draft "c1".
func setUp(t *testing.T, newStore func(t *testing.T) campaign.Store) (campaign.Store, campaign.Campaign) {
	t.Helper()
	s := newStore(t)
	ctx := context.Background()
	if err := s.CreateConfig(ctx, acme, emailConfig("cfg", "Mail", t0)); err != nil {
		t.Fatal(err)
	}
	c := draftCampaign("c1", "Order shipped", t0, "orders")
	if err := s.CreateCampaign(ctx, acme, c); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func runCampaigns(t *testing.T, newStore func(t *testing.T) campaign.Store) {
	ctx := context.Background()
	t.Run("a created campaign is read back as created, in its tenant only, and created once", func(t *testing.T) {
		s, c := setUp(t, newStore)
		got, err := s.GetCampaign(ctx, acme, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("GetCampaign (-want +got):\n%s", diff)
		}
		again := c
		again.Name = "Another"
		wantKind(t, "second CreateCampaign", s.CreateCampaign(ctx, acme, again), derrors.Conflict)
		if got, _ := s.GetCampaign(ctx, acme, c.ID); got.Name != c.Name {
			t.Errorf("name after a refused create = %q, want %q", got.Name, c.Name)
		}
		_, err = s.GetCampaign(ctx, other, c.ID)
		wantKind(t, "another tenant's GetCampaign", err, derrors.NotFound)
		_, err = s.GetCampaign(ctx, acme, "c2")
		wantKind(t, "GetCampaign(unknown)", err, derrors.NotFound)
		wantKind(t, "another tenant's CreateCampaign", s.CreateCampaign(ctx, other, c), noError)
	})
	t.Run("update replaces a campaign only from its current revision", func(t *testing.T) {
		tests := []struct {
			name string
			id   string
			prev int
			want derrors.Kind
		}{
			{"the current revision replaces it", "c1", 1, noError},
			{"a stale revision is a failed precondition", "c1", 0, derrors.Precondition},
			{"a later revision is a failed precondition", "c1", 2, derrors.Precondition},
			{"an unknown campaign is not found", "c2", 1, derrors.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, c := setUp(t, newStore)
				upd := c
				upd.ID, upd.Name, upd.Description, upd.Revision, upd.UpdatedAt = tt.id, "Renamed", "new words", 2, t0.Add(time.Second)
				wantKind(t, "UpdateCampaign", s.UpdateCampaign(ctx, acme, upd, tt.prev), tt.want)
				want := c
				if tt.want == noError {
					want = upd
				}
				got, err := s.GetCampaign(ctx, acme, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("stored after UpdateCampaign (-want +got):\n%s", diff)
				}
				if _, err := s.GetCampaign(ctx, acme, "c2"); tt.id == "c2" && !derrors.Is(err, derrors.NotFound) {
					t.Errorf("an update of an unknown campaign created it: %v", err)
				}
			})
		}
	})
	t.Run("activation stores the version and the campaign together", func(t *testing.T) {
		s, c := setUp(t, newStore)
		live, v := activated(c, 1)
		if err := s.Activate(ctx, acme, live, v, c.Revision); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetCampaign(ctx, acme, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(live, got); diff != "" {
			t.Errorf("campaign after Activate (-want +got):\n%s", diff)
		}
		gotV, err := s.GetVersion(ctx, acme, c.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, gotV); diff != "" {
			t.Errorf("GetVersion (-want +got):\n%s", diff)
		}
		for _, tt := range []struct {
			name string
			call func() error
		}{
			{"another version number", func() error { _, err := s.GetVersion(ctx, acme, c.ID, 2); return err }},
			{"another campaign", func() error { _, err := s.GetVersion(ctx, acme, "c2", 1); return err }},
			{"another tenant", func() error { _, err := s.GetVersion(ctx, other, c.ID, 1); return err }},
		} {
			wantKind(t, "GetVersion of "+tt.name, tt.call(), derrors.NotFound)
		}
	})
	t.Run("activation is refused unless the campaign, its revision and its configuration are as read", func(t *testing.T) {
		tests := []struct {
			name  string
			setup func(t *testing.T, s campaign.Store, c campaign.Campaign) (campaign.Campaign, campaign.Version, int)
			want  derrors.Kind
		}{
			{"a stale revision is a failed precondition", func(_ *testing.T, _ campaign.Store, c campaign.Campaign) (campaign.Campaign, campaign.Version, int) {
				live, v := activated(c, 1)
				return live, v, c.Revision - 1
			}, derrors.Precondition},
			{"an unknown campaign is a failed precondition", func(_ *testing.T, _ campaign.Store, c campaign.Campaign) (campaign.Campaign, campaign.Version, int) {
				c.ID = "c2"
				live, v := activated(c, 1)
				return live, v, c.Revision
			}, derrors.Precondition},
			{"an existing version number is a failed precondition", func(t *testing.T, s campaign.Store, c campaign.Campaign) (campaign.Campaign, campaign.Version, int) {
				live, v := activated(c, 1)
				if err := s.Activate(ctx, acme, live, v, c.Revision); err != nil {
					t.Fatal(err)
				}
				again, v2 := activated(live, 1)
				v2.Spec.Content.Email.Subject = "overwritten"
				return again, v2, live.Revision
			}, derrors.Precondition},
			{"a deleted configuration is a conflict", func(_ *testing.T, _ campaign.Store, c campaign.Campaign) (campaign.Campaign, campaign.Version, int) {
				c.Draft.ChannelConfigID = "gone"
				live, v := activated(c, 1)
				return live, v, c.Revision
			}, derrors.Conflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, c := setUp(t, newStore)
				c, v, prev := tt.setup(t, s, c)
				before, _ := s.GetCampaign(ctx, acme, "c1")
				beforeV, beforeErr := s.GetVersion(ctx, acme, v.CampaignID, v.Number)
				wantKind(t, "Activate", s.Activate(ctx, acme, c, v, prev), tt.want)
				after, _ := s.GetCampaign(ctx, acme, "c1")
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("campaign after a refused activation (-before +after):\n%s", diff)
				}
				afterV, afterErr := s.GetVersion(ctx, acme, v.CampaignID, v.Number)
				if diff := cmp.Diff(beforeV, afterV); diff != "" || derrors.KindOf(beforeErr) != derrors.KindOf(afterErr) {
					t.Errorf("version after a refused activation (-before +after):\n%s (error %v, then %v)", diff, beforeErr, afterErr)
				}
			})
		}
	})
	t.Run("only a draft at its current revision is deleted", func(t *testing.T) {
		tests := []struct {
			name string
			live bool
			id   string
			prev int
			want derrors.Kind
		}{
			{"a draft at its current revision is deleted", false, "c1", 1, noError},
			{"a draft at a stale revision is a failed precondition", false, "c1", 0, derrors.Precondition},
			{"a live campaign is a conflict", true, "c1", 2, derrors.Conflict},
			{"a live campaign at a stale revision is a failed precondition", true, "c1", 1, derrors.Precondition},
			{"an unknown campaign is not found", false, "c2", 1, derrors.NotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, c := setUp(t, newStore)
				if tt.live {
					live, v := activated(c, 1)
					if err := s.Activate(ctx, acme, live, v, c.Revision); err != nil {
						t.Fatal(err)
					}
				}
				wantKind(t, "another tenant's DeleteCampaign", s.DeleteCampaign(ctx, other, tt.id, tt.prev), derrors.NotFound)
				wantKind(t, "DeleteCampaign", s.DeleteCampaign(ctx, acme, tt.id, tt.prev), tt.want)
				_, err := s.GetCampaign(ctx, acme, "c1")
				if tt.want == noError {
					wantKind(t, "GetCampaign after DeleteCampaign", err, derrors.NotFound)
				} else {
					wantKind(t, "GetCampaign after a refused DeleteCampaign", err, noError)
				}
			})
		}
	})
	t.Run("versions are listed newest first, in pages", func(t *testing.T) {
		s, c := setUp(t, newStore)
		var want []campaign.VersionSummary
		for n := 1; n <= 3; n++ {
			live, v := activated(c, n)
			if err := s.Activate(ctx, acme, live, v, c.Revision); err != nil {
				t.Fatal(err)
			}
			c = live
			want = append([]campaign.VersionSummary{v.Summarize()}, want...)
		}
		for _, limit := range []int{1, 2, 3, 10} {
			t.Run(fmt.Sprintf("in pages of %d", limit), func(t *testing.T) {
				var got []campaign.VersionSummary
				cursor := ""
				for range 10 {
					p, err := s.ListVersions(ctx, acme, c.ID, limit, cursor)
					if err != nil {
						t.Fatal(err)
					}
					if len(p.Items) > limit {
						t.Errorf("a page of %d versions, over the limit of %d", len(p.Items), limit)
					}
					got = append(got, p.Items...)
					if cursor = p.Next; cursor == "" {
						break
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("versions listed (-want +got):\n%s", diff)
				}
			})
		}
		p, err := s.ListVersions(ctx, acme, "c2", 10, "")
		if diff := cmp.Diff(campaign.Page[campaign.VersionSummary]{Items: []campaign.VersionSummary{}}, p); diff != "" || err != nil {
			t.Errorf("versions of an unknown campaign (-want +got):\n%s (%v)", diff, err)
		}
		_, err = s.ListVersions(ctx, acme, c.ID, 10, "!!not-a-cursor")
		wantKind(t, "ListVersions with a cursor it did not issue", err, derrors.Invalid)
		wantKind(t, "ExpireVersions", s.ExpireVersions(ctx, acme, c.ID, t0.Add(campaign.ArchiveTTL)), noError)
		if _, err := s.GetVersion(ctx, acme, c.ID, 1); err != nil {
			t.Errorf("GetVersion once expiry is set (the table's TTL removes it later) = %v, want it", err)
		}
	})
	t.Run("campaigns and versions are stored and returned as copies", func(t *testing.T) {
		s, c := setUp(t, newStore)
		live, v := activated(c, 1)
		if err := s.Activate(ctx, acme, live, v, c.Revision); err != nil {
			t.Fatal(err)
		}
		_, want := activated(draftCampaign("c1", "Order shipped", t0, "orders"), 1)
		live.Draft.Content.Email.Subject, live.Tags[0] = "changed", "changed"
		got, err := s.GetVersion(ctx, acme, c.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		got.Spec.Content.Email.Subject = "changed by a reader"
		gotC, err := s.GetCampaign(ctx, acme, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		gotC.Draft.Content.Email.Subject = "changed by a reader"
		list, err := s.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 10})
		if err != nil || len(list.Items) != 1 || len(list.Items[0].Tags) != 1 {
			t.Fatalf("ListCampaigns = %+v, %v; want the campaign and its tag", list, err)
		}
		list.Items[0].Tags[0] = "changed by a lister"
		again, _ := s.GetVersion(ctx, acme, c.ID, 1)
		if diff := cmp.Diff(want, again); diff != "" {
			t.Errorf("version after callers changed their copies (-want +got):\n%s", diff)
		}
		if againC, _ := s.GetCampaign(ctx, acme, c.ID); againC.Draft.Content.Email.Subject != "Hi {{profile.name}}" || againC.Tags[0] != "orders" {
			t.Errorf("campaign after callers changed their copies = %q, %v", againC.Draft.Content.Email.Subject, againC.Tags)
		}
	})
}
