//go:build unix

package main

import (
	"context"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAWSMeterCountsOverlappingCallsOnce(t *testing.T) {
	var now time.Time
	at := func(s int) { now = time.Unix(0, 0).Add(time.Duration(s) * time.Second) }
	m := &awsMeter{now: func() time.Time { return now }}
	at(0)
	m.begin()
	at(1)
	m.begin() // overlaps the first: the second to fourth count once
	at(3)
	m.end()
	at(4)
	m.end()
	at(10)
	m.begin()
	at(12)
	m.end()
	if busy, calls := m.read(); busy != 6*time.Second || calls != 3 {
		t.Fatalf("read = %v, %d calls; want 6s (0–4 and 10–12), 3 calls", busy, calls)
	}
	at(20)
	m.begin()
	at(21)
	m.reset() // a call still in flight counts from the reset
	at(25)
	if busy, calls := m.read(); busy != 4*time.Second || calls != 0 {
		t.Fatalf("after reset, in flight: read = %v, %d calls; want 4s, 0 calls", busy, calls)
	}
	m.end()
	if busy, _ := m.read(); busy != 4*time.Second {
		t.Fatalf("after the call ended: busy %v, want 4s", busy)
	}
}

func TestAWSMeterProxiesAndTimesTheWait(t *testing.T) {
	const pause = 30 * time.Millisecond
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(pause)
		io.WriteString(w, "moto answered "+r.URL.Path)
	}))
	defer target.Close()
	m, err := startAWSMeter(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	resp, err := http.Get(m.url + "/table")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "moto answered /table" {
		t.Fatalf("body %q, want the target's answer", body)
	}
	busy, calls := m.read()
	if calls != 1 || busy < pause {
		t.Fatalf("read = %v, %d calls; want at least %v (the target's pause), 1 call", busy, calls, pause)
	}
}

func TestClientMethodsReadsTheLinkedOperations(t *testing.T) {
	nm := strings.Join([]string{
		"  4a1b20 T github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).GetItem",
		"  4a1c20 T github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).BatchGetItem",
		"  4a1d20 T github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).GetItem.func1",
		"  4a1e20 T github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).invokeOperation",
		"  4a1f20 T github.com/aws/aws-sdk-go-v2/service/dynamodb/types.(*Client).Nope",
		"  4a2020 T github.com/aws/aws-sdk-go-v2/service/sesv2.(*Client).SendEmail",
		"  4a2120 R github.com/aws/aws-sdk-go-v2/service/sns.(*Client).Publish",
		"  4a2220 T github.com/aws/aws-sdk-go-v2/service/sesv2.(*Client).SendEmail",
	}, "\n")
	want := map[string][]string{"dynamodb": {"BatchGetItem", "GetItem"}, "sesv2": {"SendEmail"}}
	if diff := cmp.Diff(want, clientMethods(nm)); diff != "" {
		t.Fatalf("clientMethods (-want +got):\n%s", diff)
	}
}

func TestBaselineSourceRefersToTheOperations(t *testing.T) {
	src := baselineSource([]string{"dynamodb", "sqs"}, map[string][]string{"dynamodb": {"GetItem", "Query"}})
	if _, err := parser.ParseFile(token.NewFileSet(), "main.go", src, 0); err != nil {
		t.Fatalf("baseline source does not parse: %v\n%s", err, src)
	}
	for _, want := range []string{"kept = append(kept, c0, c0.GetItem, c0.Query)", "kept = append(kept, c1)"} {
		if !strings.Contains(src, want) {
			t.Errorf("baseline source lacks %q:\n%s", want, src)
		}
	}
	if testing.Short() {
		return
	}
	// It builds, and keeps the operations: the baseline with them is larger.
	dir := t.TempDir()
	sizes := map[string]int64{}
	for name, s := range map[string]string{"clients": baselineSource([]string{"dynamodb"}, nil),
		"operations": baselineSource([]string{"dynamodb"}, map[string][]string{"dynamodb": {"GetItem", "Query"}})} {
		pkg := "../../../build/coldstart/test-" + name
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(pkg) })
		if err := os.WriteFile(filepath.Join(pkg, "main.go"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name)
		cmd := exec.CommandContext(context.Background(), "go", "build", "-trimpath", "-tags", lambdaBuildTags, "-o", out, "./"+pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s baseline: %v\n%s", name, err, b)
		}
		nm, err := exec.Command("go", "tool", "nm", out).Output()
		if err != nil {
			t.Fatal(err)
		}
		got := clientMethods(string(nm))["dynamodb"]
		if name == "operations" && !(slices.Contains(got, "GetItem") && slices.Contains(got, "Query")) {
			t.Errorf("the operations baseline links %v, want GetItem and Query", got)
		}
		if name == "clients" && slices.Contains(got, "Query") {
			t.Errorf("the clients baseline links %v, want no Query", got)
		}
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		sizes[name] = st.Size()
	}
	if sizes["operations"] <= sizes["clients"] {
		t.Errorf("sizes %v: the operations baseline should be the larger", sizes)
	}
}
