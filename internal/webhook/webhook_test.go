package webhook_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/memory"
	"github.com/heraldhq/herald/internal/tenant"
	"github.com/heraldhq/herald/internal/webhook"
)

var (
	acme = tenant.Tenant{Org: "ACME@AdobeOrg", Sandbox: "prod"}
	t0   = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
)

// fakeResolver answers from a table that tests change between calls (a
// DNS rebinding attack answers differently at create and at delivery).
type fakeResolver struct {
	mu    sync.Mutex
	hosts map[string][]netip.Addr
}

func resolver(hosts map[string]string) *fakeResolver {
	r := &fakeResolver{hosts: map[string][]netip.Addr{}}
	for h, ip := range hosts {
		r.set(h, ip)
	}
	return r
}

func (r *fakeResolver) set(host string, ips ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts[host] = nil
	for _, ip := range ips {
		r.hosts[host] = append(r.hosts[host], netip.MustParseAddr(ip))
	}
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ips, ok := r.hosts[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	return ips, nil
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func publicResolver() *fakeResolver {
	return resolver(map[string]string{"hooks.acme.example": "93.184.216.34", "private.acme.example": "10.1.2.3",
		"meta.acme.example": "169.254.169.254", "v6meta.acme.example": "fd00:ec2::254", "mapped.acme.example": "::ffff:192.168.1.1"})
}

func newService(st webhook.Store, r webhook.Resolver) *webhook.Service {
	return &webhook.Service{Store: st, Resolver: r, Now: func() time.Time { return t0 },
		NewSecret: func() (string, error) { return "generated-secret-0123456789", nil }}
}

func validInput() webhook.Input {
	return webhook.Input{Name: "ops", URL: "https://hooks.acme.example/herald", Channels: []string{"email", "sms"},
		Headers: map[string]string{"X-Api-Key": "k-1"}, Secret: "0123456789abcdef"}
}

// fields returns the field names of a validation error.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var de *derrors.Error
	if !errors.As(err, &de) || de.Kind != derrors.Invalid {
		t.Fatalf("error = %v, want a validation error", err)
	}
	var out []string
	for _, f := range de.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestCreateRefusesEachBadFieldByName(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(in *webhook.Input)
		field []string
	}{
		{"an empty name", func(in *webhook.Input) { in.Name = "" }, []string{"name"}},
		{"a name of 129 characters", func(in *webhook.Input) { in.Name = string(make([]rune, 129)) }, []string{"name"}},
		{"no URL", func(in *webhook.Input) { in.URL = "" }, []string{"url"}},
		{"a relative URL", func(in *webhook.Input) { in.URL = "/herald" }, []string{"url"}},
		{"an ftp URL", func(in *webhook.Input) { in.URL = "ftp://hooks.acme.example/x" }, []string{"url"}},
		{"plain http to a public host", func(in *webhook.Input) { in.URL = "http://hooks.acme.example/x" }, []string{"url"}},
		{"user info in the URL", func(in *webhook.Input) { in.URL = "https://u:p@hooks.acme.example/x" }, []string{"url"}},
		{"a host that does not resolve", func(in *webhook.Input) { in.URL = "https://nowhere.acme.example/x" }, []string{"url"}},
		{"a host resolving to a private address", func(in *webhook.Input) { in.URL = "https://private.acme.example/x" }, []string{"url"}},
		{"a host resolving to the metadata service", func(in *webhook.Input) { in.URL = "https://meta.acme.example/x" }, []string{"url"}},
		{"a host resolving to the IPv6 metadata service", func(in *webhook.Input) { in.URL = "https://v6meta.acme.example/x" }, []string{"url"}},
		{"a host resolving to an IPv4-mapped private address", func(in *webhook.Input) { in.URL = "https://mapped.acme.example/x" }, []string{"url"}},
		{"a literal loopback address", func(in *webhook.Input) { in.URL = "https://127.0.0.1:8443/x" }, []string{"url"}},
		{"plain http to loopback when loopback is not allowed", func(in *webhook.Input) { in.URL = "http://127.0.0.1:8080/x" }, []string{"url"}},
		{"a literal metadata address", func(in *webhook.Input) { in.URL = "https://169.254.169.254/latest" }, []string{"url"}},
		{"a literal IPv6 link-local address", func(in *webhook.Input) { in.URL = "https://[fe80::1]/x" }, []string{"url"}},
		{"a CGNAT address", func(in *webhook.Input) { in.URL = "https://100.64.0.1/x" }, []string{"url"}},
		{"no channel", func(in *webhook.Input) { in.Channels = nil }, []string{"channels"}},
		{"an unknown channel", func(in *webhook.Input) { in.Channels = []string{"email", "fax"} }, []string{"channels[1]"}},
		{"a channel twice", func(in *webhook.Input) { in.Channels = []string{"sms", "sms"} }, []string{"channels[1]"}},
		{"a header name that is no token", func(in *webhook.Input) { in.Headers = map[string]string{"X Bad": "v"} }, []string{"headers.X Bad"}},
		{"a header value with CR LF", func(in *webhook.Input) { in.Headers = map[string]string{"X-A": "v\r\nX-B: w"} }, []string{"headers.X-A"}},
		{"the Host header", func(in *webhook.Input) { in.Headers = map[string]string{"host": "evil"} }, []string{"headers.host"}},
		{"the Content-Type header", func(in *webhook.Input) { in.Headers = map[string]string{"Content-Type": "text/plain"} }, []string{"headers.Content-Type"}},
		{"a signature header", func(in *webhook.Input) { in.Headers = map[string]string{"x-herald-signature": "v1=0"} }, []string{"headers.x-herald-signature"}},
		{"21 headers", func(in *webhook.Input) {
			in.Headers = map[string]string{}
			for i := range 21 {
				in.Headers["X-H"+string(rune('a'+i))] = "v"
			}
		}, []string{"headers"}},
		{"a short secret", func(in *webhook.Input) { in.Secret = "short" }, []string{"secret"}},
		{"a secret of 257 characters", func(in *webhook.Input) { in.Secret = string(make([]byte, 257)) }, []string{"secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.edit(&in)
			_, err := newService(memory.New(), publicResolver()).Create(context.Background(), acme, in)
			if diff := cmp.Diff(tt.field, fields(t, err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoopbackHTTPIsAcceptedOnlyWhereAllowed(t *testing.T) {
	s := newService(memory.New(), publicResolver())
	s.AllowLoopbackHTTP = true
	in := validInput()
	in.URL = "http://127.0.0.1:8080/hook"
	if _, err := s.Create(context.Background(), acme, in); err != nil {
		t.Fatalf("Create with loopback allowed: %v", err)
	}
	in.URL = "http://10.0.0.1/hook"
	_, err := s.Patch(context.Background(), acme, func(webhook.Input) (webhook.Input, error) { return in, nil })
	if diff := cmp.Diff([]string{"url"}, fields(t, err)); diff != "" {
		t.Errorf("a private address with loopback allowed (-want +got):\n%s", diff)
	}
}

func TestTheSecretIsWriteOnly(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	s := newService(st, publicResolver())
	in := validInput()
	in.Secret = ""
	created, err := s.Create(ctx, acme, in)
	if err != nil {
		t.Fatal(err)
	}
	want := webhook.View{Name: "ops", URL: in.URL, Channels: in.Channels, Headers: in.Headers, SecretSet: true,
		Secret: "generated-secret-0123456789", CreatedAt: t0, UpdatedAt: t0}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("Create shows the generated secret once (-want +got):\n%s", diff)
	}
	got, err := s.Get(ctx, acme)
	want.Secret = ""
	if diff := cmp.Diff(want, got); diff != "" || err != nil {
		t.Errorf("Get never shows it (-want +got):\n%s (%v)", diff, err)
	}
	if _, err := s.Create(ctx, acme, validInput()); !derrors.Is(err, derrors.Conflict) {
		t.Errorf("a second Create = %v, want a conflict", err)
	}
	// A patch without a secret keeps it; one with a secret replaces it.
	if _, err := s.Patch(ctx, acme, func(cur webhook.Input) (webhook.Input, error) {
		if cur.Secret != "" {
			t.Errorf("the patched document holds the secret")
		}
		cur.Name = "renamed"
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.GetWebhook(ctx, acme); c.Secret != "generated-secret-0123456789" || c.Name != "renamed" {
		t.Errorf("after a patch without secret: name %q, secret kept %v", c.Name, c.Secret == "generated-secret-0123456789")
	}
	if _, err := s.Patch(ctx, acme, func(cur webhook.Input) (webhook.Input, error) {
		cur.Secret = "a-new-secret-of-24-chars"
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.GetWebhook(ctx, acme); c.Secret != "a-new-secret-of-24-chars" {
		t.Errorf("a patch with a secret did not replace it")
	}
	if err := s.Delete(ctx, acme); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, acme); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Get after Delete = %v, want not found", err)
	}
	if _, err := s.Patch(ctx, acme, func(cur webhook.Input) (webhook.Input, error) { return cur, nil }); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("Patch after Delete = %v, want not found", err)
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		ip       string
		loopback bool
		want     bool
	}{
		{"93.184.216.34", false, true},
		{"2606:2800:220:1:248:1893:25c8:1946", false, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1", true, true},
		{"127.9.9.9", true, true},
		{"::1", true, false},
		{"10.0.0.1", true, false},
		{"172.16.0.1", false, false},
		{"172.32.0.1", false, true},
		{"192.168.0.1", false, false},
		{"169.254.169.254", false, false},
		{"100.64.0.1", false, false},
		{"100.128.0.1", false, true},
		{"0.0.0.0", false, false},
		{"0.1.2.3", false, false},
		{"224.0.0.1", false, false},
		{"255.255.255.255", false, false},
		{"::", false, false},
		{"fc00::1", false, false},
		{"fd00:ec2::254", false, false},
		{"fe80::1", false, false},
		{"ff02::1", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"::ffff:127.0.0.1", false, false},
		{"::ffff:93.184.216.34", false, true},
		{"64:ff9b::a00:1", false, false},
		{"2002:a00:1::", false, false},
	}
	for _, tt := range tests {
		g := &webhook.Guard{AllowLoopbackHTTP: tt.loopback}
		if got := g.Allowed(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("Allowed(%s) with loopback %v = %v, want %v", tt.ip, tt.loopback, got, tt.want)
		}
	}
}
