package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/heraldhq/herald/infra/localcloud"
	"github.com/heraldhq/herald/infra/motoserver"
)

func TestBannerIsAReadyToPasteTrigger(t *testing.T) {
	c := &localcloud.Cloud{URL: "http://127.0.0.1:3000", Moto: motoserver.Connect("http://127.0.0.1:5000")}
	d := localcloud.Demo{Org: localcloud.DemoOrg, Sandbox: localcloud.DemoSandbox, KeyID: "hk_1", Secret: localcloud.DemoSecret, CampaignID: "camp-1"}
	var out bytes.Buffer
	printBanner(&out, c, d)
	for _, want := range []string{
		"curl -sS -X POST http://127.0.0.1:3000/im/executions/unitary",
		"-H 'Authorization: Bearer " + localcloud.DemoSecret + "'",
		"-H 'x-api-key: hk_1'",
		"-H 'x-gw-ims-org-id: DEMO@HeraldOrg'",
		"-H 'x-sandbox-name: prod'",
		"-H 'Content-Type: application/json'",
		`"requestId":"demo-`,
		`"campaignId":"camp-1"`,
		`"userId":"jane@example.com"`,
		"http://127.0.0.1:5000/moto-api/data.json",
		"idempotent replay",
		"bounce@simulator.amazonses.com",
		"http://127.0.0.1:3000/executions/<executionId>/report",
		"console    http://127.0.0.1:3000/console/",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
}
