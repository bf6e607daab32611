package delivery

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMarkNoTrackOptsEveryLinkOutOnce(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a link is marked after its tag name",
			`<p>Hi <a href="https://acme.example/o/1">your order</a></p>`,
			`<p>Hi <a ses:no-track href="https://acme.example/o/1">your order</a></p>`},
		{"every link is marked, whatever its case, quoting and attribute order",
			`<A HREF=https://a.example>A</A> <a class="x" href='https://b.example'>B</a><a
href="https://c.example">C</a>`,
			`<A ses:no-track HREF=https://a.example>A</A> <a ses:no-track class="x" href='https://b.example'>B</a><a ses:no-track
href="https://c.example">C</a>`},
		{"a link already marked is left alone",
			`<a ses:no-track href="https://a.example">A</a><a href="https://b.example" SES:NO-TRACK>B</a>`,
			`<a ses:no-track href="https://a.example">A</a><a href="https://b.example" SES:NO-TRACK>B</a>`},
		{"an anchor without href, and tags that only start with a, are left alone",
			`<a name="top">Top</a><abbr title="href">x</abbr><area href="https://a.example">`,
			`<a name="top">Top</a><abbr title="href">x</abbr><area href="https://a.example">`},
		{"href in a value or in text is no href attribute",
			`<a title="href=x">T</a> <b>a href="y"</b> 1 < 2 and <a data-x='<a href="z">'>D</a>`,
			`<a title="href=x">T</a> <b>a href="y"</b> 1 < 2 and <a data-x='<a href="z">'>D</a>`},
		{"a '>' inside a quoted value does not end the tag",
			`<a title="a > b" href="https://a.example">A</a>`,
			`<a ses:no-track title="a > b" href="https://a.example">A</a>`},
		{"comments, doctypes and style and script contents are left alone",
			`<!DOCTYPE html><!-- <a href="x"> --><style>/* <a href="y"> */</style><script>"<a href='z'>"</script><a href="w">W</a>`,
			`<!DOCTYPE html><!-- <a href="x"> --><style>/* <a href="y"> */</style><script>"<a href='z'>"</script><a ses:no-track href="w">W</a>`},
		{"a title or textarea holding markup is text",
			`<title><a href="x"></title><TEXTAREA><a href="y"></textarea><a href="z">Z</a>`,
			`<title><a href="x"></title><TEXTAREA><a href="y"></textarea><a ses:no-track href="z">Z</a>`},
		{"a self-closing or empty-valued href still counts",
			`<a href="" />`,
			`<a ses:no-track href="" />`},
		{"a tag cut off at the end is left as it is",
			`<a href="https://a.example">A</a><a href="https://b.exa`,
			`<a ses:no-track href="https://a.example">A</a><a href="https://b.exa`},
		{"html without links comes back unchanged", `<p>Hello</p>`, `<p>Hello</p>`},
		{"empty html stays empty", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := markNoTrack(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("markNoTrack (-want +got):\n%s", diff)
			}
			if again := markNoTrack(got); again != got {
				t.Errorf("markNoTrack is not idempotent: second pass gave %q", again)
			}
		})
	}
}

func TestChooseConfigurationSetFollowsTracking(t *testing.T) {
	herald := ConfigurationSets{Tracked: "h-all", Clicks: "h-clicks", Untracked: "h-none"}
	one := ConfigurationSets{Tracked: "mine", Clicks: "mine", Untracked: "mine"}
	type choice struct {
		Name    string
		NoTrack bool
	}
	tests := []struct {
		name          string
		sets          ConfigurationSets
		own           string
		opens, clicks bool
		want          choice
	}{
		{"opens and clicks go through the full set", herald, "", true, true, choice{"h-all", false}},
		{"clicks only go through the clicks set", herald, "", false, true, choice{"h-clicks", false}},
		{"opens only go through the full set with every link opted out", herald, "", true, false, choice{"h-all", true}},
		{"neither goes through the untracked set", herald, "", false, false, choice{"h-none", false}},
		{"a configuration's own set is used as is with clicks on", herald, "acme", true, true, choice{"acme", false}},
		{"a configuration's own set is used with links opted out when clicks are off", herald, "acme", false, false, choice{"acme", true}},
		{"a deployment's one set is used for both with clicks on", one, "", false, true, choice{"mine", false}},
		{"a deployment's one set is used with links opted out when clicks are off", one, "", false, false, choice{"mine", true}},
		{"without the extra sets the full set is used, links opted out when clicks are off", ConfigurationSets{Tracked: "h-all"}, "", false, false, choice{"h-all", true}},
		{"without any set clicks off still opt links out", ConfigurationSets{}, "", true, false, choice{"", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, noTrack := chooseConfigurationSet(tt.sets, tt.own, tt.opens, tt.clicks)
			if diff := cmp.Diff(tt.want, choice{name, noTrack}); diff != "" {
				t.Errorf("chooseConfigurationSet (-want +got):\n%s", diff)
			}
		})
	}
}

// markNoTrack only ever inserts the attribute, at most once per tag, and
// a second pass changes nothing.
func FuzzMarkNoTrack(f *testing.F) {
	for _, seed := range []string{
		`<a href="https://a.example">A</a>`, `<a href=x/>`, `<a title='>' href=x>`, `<!--<a href=x>-->`,
		`<style><a href=x></style><a href=y>`, `<a href="x`, `<a ses:no-track href=x>`, `<<a href=x>>`, `</a href=x>`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := markNoTrack(in)
		if strings.ReplaceAll(out, " "+noTrackAttr, "") != strings.ReplaceAll(in, " "+noTrackAttr, "") {
			t.Fatalf("markNoTrack(%q) = %q: more than the attribute changed", in, out)
		}
		if again := markNoTrack(out); again != out {
			t.Fatalf("markNoTrack(%q) = %q, and again %q: not idempotent", in, out, again)
		}
	})
}
