package dynamo_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/profile"
)

// The golden files pin what the store keeps in DynamoDB: every item of
// the samples below, attribute by attribute, as the DynamoDB JSON of its
// raw attribute values (a gzipped doc as its base64 bytes, with the
// decompressed document beside it under testdata/docs). They were written
// by the store before campaigns, versions, configurations and profiles got
// storage records of their own, so tables written then keep working.
// -update rewrites them from what the store writes now: only for a
// deliberate change of the stored format, which existing tables must then
// be migrated to.
var update = flag.Bool("update", false, "rewrite testdata/*.json from what the store writes now")

// goldenFile names the file holding an item, by its sort key.
func goldenFile(sk string) string {
	switch {
	case sk == "CHCFG":
		return "configs"
	case sk == "CAMP":
		return "campaigns"
	case strings.HasPrefix(sk, "V#"):
		return "versions"
	case sk == "PROF", sk == "ALIAS":
		return "profiles"
	}
	return ""
}

var goldenKinds = []string{"configs", "campaigns", "versions", "profiles"}

var (
	gStart   = time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("", 3600))
	gEnd     = time.Date(2026, 12, 24, 18, 30, 0, 500, time.UTC)
	gStopped = now.Add(48 * time.Hour)
	gArchive = now.Add(72 * time.Hour)
	gExpires = gArchive.Add(campaign.ArchiveTTL)
	badge    = 3
)

func goldenConfigs() []campaign.ChannelConfig {
	return []campaign.ChannelConfig{
		{ID: "cfg-email", Name: "Order Mail", Channel: campaign.Email, Category: campaign.Transactional,
			Email: &campaign.EmailSettings{FromName: "ACME <Orders>", FromAddress: "orders@acme.example", ReplyTo: []string{"help@acme.example"},
				BCC: []string{"audit@acme.example", "archive@acme.example"}, ConfigurationSet: "acme-tx",
				ListUnsubscribeMailto: "unsub@acme.example", ListUnsubscribeURL: "https://acme.example/unsub?a=1&b=2", SendToSuppressed: true},
			Revision: 2, CreatedAt: now, UpdatedAt: now.Add(time.Minute)},
		{ID: "cfg-sms", Name: "Alerts", Channel: campaign.SMS, Category: campaign.Marketing,
			SMS:      &campaign.SMSSettings{SenderID: "ACME", OriginationNumber: "+15550100", SMSType: "Promotional", MaxSegments: 3, DefaultRegion: "US"},
			Revision: 1, CreatedAt: now.Add(time.Second), UpdatedAt: now.Add(time.Second)},
		{ID: "cfg-push", Name: "Apps", Channel: campaign.Push, Category: campaign.Marketing,
			Push: &campaign.PushSettings{Apps: []campaign.PushApp{
				{AppID: "shop-ios", Platform: "APNS", PlatformApplicationARN: "arn:aws:sns:us-east-1:123456789012:app/APNS/shop-ios"},
				{AppID: "shop-android", Platform: "GCM", PlatformApplicationARN: "arn:aws:sns:us-east-1:123456789012:app/GCM/shop-android"}}},
			Revision: 1, CreatedAt: now.Add(2 * time.Second), UpdatedAt: now.Add(2 * time.Second)},
	}
}

// goldenCampaign is a campaign as the samples leave it, with its versions.
type goldenCampaign struct {
	c        campaign.Campaign
	versions []campaign.Version
}

func goldenCampaigns() []goldenCampaign {
	emailDraft := campaign.Campaign{ID: "c-draft", Name: "Order Shipped", Description: "Tells <them> it's on its way & when",
		Tags: []string{"billing", "q4"}, Type: campaign.Transactional, Channel: campaign.Email, Status: campaign.StatusDraft,
		Draft: campaign.Spec{ChannelConfigID: "cfg-email",
			Content: campaign.Content{Email: &campaign.EmailContent{Subject: "Hi {{profile.name}} & co", Preheader: "Olá — it's shipped",
				HTML: `<p>Olá <b>{{profile.name}}</b> &amp; welcome</p>`, Text: "Olá {{profile.name}}"}},
			Audience:      campaign.Audience{Namespace: "email", CreateProfiles: true},
			Schedule:      campaign.Schedule{Start: &gStart, End: &gEnd},
			ContextSchema: json.RawMessage(`{"type":"object","properties":{"order":{"type":"string"}}}`)},
		DraftPending: true, Revision: 1, CreatedAt: now.Add(10 * time.Second), UpdatedAt: now.Add(11 * time.Second)}

	pushSpec := campaign.Spec{ChannelConfigID: "cfg-push",
		Content: campaign.Content{Push: &campaign.PushContent{Title: "Sale", Body: "{{profile.name}}, 20% off", ImageURL: "https://acme.example/i.png",
			DeepLink: "acme://sale", Sound: "default", Badge: &badge, Data: map[string]string{"k": "v", "sale": "{{context.id}}"}, Silent: true}},
		Audience: campaign.Audience{Namespace: "crmId", AudienceID: "aud-1"},
		Schedule: campaign.Schedule{DeliveryRate: 200}}
	pushV1 := pushSpec
	pushV1.Content.Push = &campaign.PushContent{Title: "Sale", Body: "First"}
	push := campaign.Campaign{ID: "c-push", Name: "Winter Sale", Type: campaign.Marketing, Channel: campaign.Push, Status: campaign.StatusLive,
		Draft: pushSpec, LiveVersion: 2, Revision: 3, CreatedAt: now.Add(20 * time.Second), UpdatedAt: now.Add(22 * time.Second)}

	smsSpec := campaign.Spec{ChannelConfigID: "cfg-sms", Content: campaign.Content{SMS: &campaign.SMSContent{Body: "Code {{context.code}}"}},
		Audience: campaign.Audience{Namespace: "phone"}}
	sms := campaign.Campaign{ID: "c-sms", Name: "Codes", Type: campaign.Marketing, Channel: campaign.SMS, Status: campaign.StatusArchived,
		Draft: smsSpec, LiveVersion: 1, Revision: 3, CreatedAt: now.Add(30 * time.Second), UpdatedAt: gArchive,
		StoppedAt: &gStopped, ArchivedAt: &gArchive, ExpiresAt: &gExpires}

	return []goldenCampaign{
		{c: emailDraft},
		{c: push, versions: []campaign.Version{
			{CampaignID: "c-push", Number: 1, Type: campaign.Marketing, Channel: campaign.Push, Spec: pushV1, ActivatedAt: now.Add(21 * time.Second)},
			{CampaignID: "c-push", Number: 2, Type: campaign.Marketing, Channel: campaign.Push, Spec: pushSpec, ActivatedAt: now.Add(22 * time.Second)}}},
		{c: sms, versions: []campaign.Version{
			{CampaignID: "c-sms", Number: 1, Type: campaign.Marketing, Channel: campaign.SMS, Spec: smsSpec, ActivatedAt: now.Add(31 * time.Second)}}},
	}
}

func goldenProfiles() []profile.Profile {
	return []profile.Profile{
		{Namespace: "crmId", ID: "42",
			Attributes: map[string]any{"name": "Jane <J> & Co", "age": json.Number("42"), "score": 1.5, "vip": true, "nick": nil,
				"address": map[string]any{"city": "Zürich", "zip": "8001"}, "tags": []any{"a", "b"}},
			Identities: map[string]string{"email": "jane@example.com", "phone": "+41790000000"},
			Consent:    map[string]string{"email": "y", "sms": "n"},
			Devices: []profile.Device{
				{AppID: "shop-ios", Platform: "APNS", Token: "tok1", EndpointARN: "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/shop-ios/1", Enabled: true},
				{AppID: "shop-android", Platform: "GCM", Token: "tok2"}},
			TimeZone: "Europe/Zurich", Locale: "de-CH", CreatedAt: now, UpdatedAt: now.Add(time.Hour)},
		{Namespace: "email", ID: "min@example.com", Attributes: map[string]any{}, CreatedAt: now, UpdatedAt: now},
		{Namespace: "crmId", ID: "bare", CreatedAt: now, UpdatedAt: now},
	}
}

// writeGolden writes the samples through the store's own methods.
func writeGolden(t *testing.T, s *dynamo.Store) {
	t.Helper()
	ctx := context.Background()
	for _, c := range goldenConfigs() {
		if err := s.CreateConfig(ctx, acme, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range goldenCampaigns() {
		c := g.c
		if len(g.versions) == 0 {
			if err := s.CreateCampaign(ctx, acme, c); err != nil {
				t.Fatal(err)
			}
			continue
		}
		first := c
		first.Status, first.LiveVersion, first.Revision, first.StoppedAt, first.ArchivedAt, first.ExpiresAt =
			campaign.StatusDraft, 0, 1, nil, nil, nil
		if err := s.CreateCampaign(ctx, acme, first); err != nil {
			t.Fatal(err)
		}
		for i, v := range g.versions {
			step := first
			step.Status, step.DraftPending, step.LiveVersion, step.Revision = campaign.StatusLive, false, v.Number, 2+i
			if step.Revision == c.Revision {
				step = c
			}
			if err := s.Activate(ctx, acme, step, v, 1+i); err != nil {
				t.Fatal(err)
			}
		}
		if prev := 1 + len(g.versions); c.Revision > prev {
			if err := s.UpdateCampaign(ctx, acme, c, prev); err != nil {
				t.Fatal(err)
			}
		}
		if c.ExpiresAt != nil {
			if err := s.ExpireVersions(ctx, acme, c.ID, *c.ExpiresAt); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range goldenProfiles() {
		if err := s.Put(ctx, acme, p); err != nil {
			t.Fatal(err)
		}
	}
}

// scanItems reads every item of the table, grouped by golden file and
// sorted by key.
func scanItems(t *testing.T, api *dynamodb.Client, table string) map[string][]map[string]types.AttributeValue {
	t.Helper()
	out := map[string][]map[string]types.AttributeValue{}
	p := dynamodb.NewScanPaginator(api, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			sk := item["sk"].(*types.AttributeValueMemberS).Value
			f := goldenFile(sk)
			if f == "" {
				t.Fatalf("unexpected item %v %s", item["pk"], sk)
			}
			out[f] = append(out[f], item)
		}
	}
	for _, items := range out {
		slices.SortFunc(items, func(a, b map[string]types.AttributeValue) int {
			return strings.Compare(itemKey(a), itemKey(b))
		})
	}
	return out
}

func itemKey(item map[string]types.AttributeValue) string {
	s := func(n string) string {
		v, _ := item[n].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	return s("pk") + " " + s("sk")
}

// docFile names the decompressed document of an item under testdata/docs.
func docFile(item map[string]types.AttributeValue) string {
	k := itemKey(item)
	k = k[strings.LastIndex(k[:strings.Index(k, " ")], "#")+1:]
	return filepath.Join("testdata", "docs", strings.NewReplacer(" ", "-", "#", "-").Replace(k)+".json")
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTheStoreWritesItemsAsTheGoldenFilesHoldThem: the attributes are the
// same, and each gzipped document decompresses to the same bytes.
func TestTheStoreWritesItemsAsTheGoldenFilesHoldThem(t *testing.T) {
	s, api, table := newRawStore(t)
	writeGolden(t, s)
	got := scanItems(t, api, table)
	if *update {
		if err := os.MkdirAll(filepath.Join("testdata", "docs"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, kind := range goldenKinds {
			var js []any
			for _, item := range got[kind] {
				js = append(js, itemJSON(item))
				if d, ok := item["doc"].(*types.AttributeValueMemberB); ok {
					if err := os.WriteFile(docFile(item), gunzip(t, d.Value), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(js); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("testdata", kind+".json"), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, kind := range goldenKinds {
		t.Run(kind, func(t *testing.T) {
			want := readGolden(t, kind)
			var wantKeys, gotKeys []string
			for _, item := range want {
				wantKeys = append(wantKeys, itemKey(item))
			}
			for _, item := range got[kind] {
				gotKeys = append(gotKeys, itemKey(item))
			}
			if diff := cmp.Diff(wantKeys, gotKeys); diff != "" {
				t.Fatalf("item keys (-want +got):\n%s", diff)
			}
			for i, w := range want {
				g := got[kind][i]
				wd, _ := w["doc"].(*types.AttributeValueMemberB)
				gd, _ := g["doc"].(*types.AttributeValueMemberB)
				if (wd == nil) != (gd == nil) {
					t.Errorf("%s: doc stored %v, want %v", itemKey(w), gd != nil, wd != nil)
				}
				if wd != nil && gd != nil {
					wantDoc, gotDoc := gunzip(t, wd.Value), gunzip(t, gd.Value)
					if file, err := os.ReadFile(docFile(w)); err != nil || !bytes.Equal(file, wantDoc) {
						t.Errorf("%s: testdata/docs does not hold the golden item's document (%v)", itemKey(w), err)
					}
					if !bytes.Equal(wantDoc, gotDoc) {
						t.Errorf("%s: document (-want +got):\n%s", itemKey(w), cmp.Diff(string(wantDoc), string(gotDoc)))
					}
				}
				if diff := cmp.Diff(itemJSON(withoutDoc(w)), itemJSON(withoutDoc(g))); diff != "" {
					t.Errorf("%s: attributes (-want +got):\n%s", itemKey(w), diff)
				}
			}
		})
	}
}

func withoutDoc(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		if k != "doc" {
			out[k] = v
		}
	}
	return out
}

func readGolden(t *testing.T, kind string) []map[string]types.AttributeValue {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", kind+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s.json: %v", kind, err)
	}
	var items []map[string]types.AttributeValue
	for _, r := range raw {
		item := map[string]types.AttributeValue{}
		for name, v := range r {
			av, err := avFromJSON(v)
			if err != nil {
				t.Fatalf("%s.json: %s: %v", kind, name, err)
			}
			item[name] = av
		}
		items = append(items, item)
	}
	return items
}

// TestItemsInTheGoldenFilesReadAsTheirDomainValues: items as the store
// wrote them before its storage records read back through every read.
func TestItemsInTheGoldenFilesReadAsTheirDomainValues(t *testing.T) {
	s, api, table := newRawStore(t)
	ctx := context.Background()
	for _, kind := range goldenKinds {
		for _, item := range readGolden(t, kind) {
			if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("configurations read one by one and in the list", func(t *testing.T) {
		want := goldenConfigs()
		for _, c := range want {
			got, err := s.GetConfig(ctx, acme, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c, got); diff != "" {
				t.Errorf("GetConfig(%s) (-want +got):\n%s", c.ID, diff)
			}
		}
		page, err := s.ListConfigs(ctx, acme, campaign.ListFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(want)
		if diff := cmp.Diff(want, page.Items); diff != "" {
			t.Errorf("ListConfigs (-want +got):\n%s", diff)
		}
	})

	t.Run("a configuration's usage reads as the campaigns activated with it", func(t *testing.T) {
		var asked []string
		err := s.DeleteConfig(ctx, acme, "cfg-push", 1, func(ids []string) (string, error) {
			asked = ids
			return "c-push", nil
		})
		if !derrors.Is(err, derrors.Conflict) {
			t.Errorf("DeleteConfig = %v, want Conflict", err)
		}
		if diff := cmp.Diff([]string{"c-push"}, asked); diff != "" {
			t.Errorf("usedBy (-want +got):\n%s", diff)
		}
	})

	t.Run("campaigns and versions read one by one and in their lists", func(t *testing.T) {
		var summaries []campaign.Summary
		for _, g := range goldenCampaigns() {
			got, err := s.GetCampaign(ctx, acme, g.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(g.c, got); diff != "" {
				t.Errorf("GetCampaign(%s) (-want +got):\n%s", g.c.ID, diff)
			}
			summaries = append(summaries, g.c.Summarize())
			var vsums []campaign.VersionSummary
			for _, v := range g.versions {
				got, err := s.GetVersion(ctx, acme, g.c.ID, v.Number)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(v, got); diff != "" {
					t.Errorf("GetVersion(%s, %d) (-want +got):\n%s", g.c.ID, v.Number, diff)
				}
				vsums = append(vsums, v.Summarize())
			}
			page, err := s.ListVersions(ctx, acme, g.c.ID, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			slices.Reverse(vsums)
			if diff := cmp.Diff(vsums, page.Items, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListVersions(%s) (-want +got):\n%s", g.c.ID, diff)
			}
		}
		page, err := s.ListCampaigns(ctx, acme, campaign.ListFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(summaries)
		if diff := cmp.Diff(summaries, page.Items); diff != "" {
			t.Errorf("ListCampaigns (-want +got):\n%s", diff)
		}
	})

	t.Run("profiles read by any identity", func(t *testing.T) {
		want := goldenProfiles()
		// Numbers read back as float64, whatever they were written as.
		want[0].Attributes["age"] = float64(42)
		for _, p := range want {
			for _, id := range p.AllIdentities() {
				got, err := s.Get(ctx, acme, id)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(p, got); diff != "" {
					t.Errorf("Get(%v) (-want +got):\n%s", id, diff)
				}
			}
		}
		ids := []profile.Identity{{Namespace: "email", ID: "jane@example.com"}, want[1].Identity(), want[2].Identity()}
		got, err := s.BatchGet(ctx, acme, ids)
		if err != nil {
			t.Fatal(err)
		}
		wantByID := map[profile.Identity]profile.Profile{ids[0]: want[0], ids[1]: want[1], ids[2]: want[2]}
		if diff := cmp.Diff(wantByID, got); diff != "" {
			t.Errorf("BatchGet (-want +got):\n%s", diff)
		}
	})
}

// itemJSON is an item in DynamoDB's JSON: {"name": {"S": "…"}, …}; the
// members of sets sorted, as DynamoDB keeps no order.
func itemJSON(item map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(item))
	for k, v := range item {
		out[k] = avJSON(v)
	}
	return out
}

func avJSON(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": itemJSON(v.Value)}
	case *types.AttributeValueMemberL:
		l := make([]any, 0, len(v.Value))
		for _, x := range v.Value {
			l = append(l, avJSON(x))
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": slices.Sorted(slices.Values(v.Value))}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": slices.Sorted(slices.Values(v.Value))}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": slices.SortedFunc(slices.Values(v.Value), bytes.Compare)}
	}
	panic(fmt.Sprintf("attribute value %T", av))
}

func avFromJSON(raw json.RawMessage) (types.AttributeValue, error) {
	var one map[string]json.RawMessage
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	if len(one) != 1 {
		return nil, fmt.Errorf("%s: want one type", raw)
	}
	for typ, v := range one {
		var err error
		switch typ {
		case "S":
			var s string
			err = json.Unmarshal(v, &s)
			return &types.AttributeValueMemberS{Value: s}, err
		case "N":
			var s string
			err = json.Unmarshal(v, &s)
			return &types.AttributeValueMemberN{Value: s}, err
		case "B":
			var b []byte
			err = json.Unmarshal(v, &b)
			return &types.AttributeValueMemberB{Value: b}, err
		case "BOOL":
			var b bool
			err = json.Unmarshal(v, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			var b bool
			err = json.Unmarshal(v, &b)
			return &types.AttributeValueMemberNULL{Value: b}, err
		case "SS":
			var ss []string
			err = json.Unmarshal(v, &ss)
			return &types.AttributeValueMemberSS{Value: ss}, err
		case "NS":
			var ns []string
			err = json.Unmarshal(v, &ns)
			return &types.AttributeValueMemberNS{Value: ns}, err
		case "BS":
			var bs [][]byte
			err = json.Unmarshal(v, &bs)
			return &types.AttributeValueMemberBS{Value: bs}, err
		case "M":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return nil, err
			}
			out := &types.AttributeValueMemberM{Value: make(map[string]types.AttributeValue, len(m))}
			for k, x := range m {
				if out.Value[k], err = avFromJSON(x); err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
			}
			return out, nil
		case "L":
			var l []json.RawMessage
			if err := json.Unmarshal(v, &l); err != nil {
				return nil, err
			}
			out := &types.AttributeValueMemberL{Value: make([]types.AttributeValue, len(l))}
			for i, x := range l {
				if out.Value[i], err = avFromJSON(x); err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
				}
			}
			return out, nil
		}
		return nil, fmt.Errorf("unknown attribute type %q", typ)
	}
	panic("unreachable")
}
