package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/sns"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	os.Exit(code)
}

// recorder is the SNS client with every Publish input kept: moto drops
// SMS message attributes, so they are checked on what the SDK sends.
type recorder struct {
	*awssns.Client
	mu        sync.Mutex
	publishes []*awssns.PublishInput
	checks    atomic.Int32
}

func (r *recorder) Publish(ctx context.Context, in *awssns.PublishInput, opts ...func(*awssns.Options)) (*awssns.PublishOutput, error) {
	r.mu.Lock()
	r.publishes = append(r.publishes, in)
	r.mu.Unlock()
	return r.Client.Publish(ctx, in, opts...)
}

func (r *recorder) CheckIfPhoneNumberIsOptedOut(ctx context.Context, in *awssns.CheckIfPhoneNumberIsOptedOutInput, opts ...func(*awssns.Options)) (*awssns.CheckIfPhoneNumberIsOptedOutOutput, error) {
	r.checks.Add(1)
	return r.Client.CheckIfPhoneNumberIsOptedOut(ctx, in, opts...)
}

var seq atomic.Int32

func newClient(t *testing.T) (*sns.Client, *recorder, *motoserver.Server) {
	t.Helper()
	moto := motoserver.Shared(t)
	rec := &recorder{Client: awssns.NewFromConfig(moto.AWSConfig())}
	return sns.New(rec), rec, moto
}

func TestSendSMSReachesSNSWithItsAttributes(t *testing.T) {
	c, rec, moto := newClient(t)
	ctx := context.Background()
	to := fmt.Sprintf("+1415555%04d", 1000+seq.Add(1))
	id, err := c.SendSMS(ctx, delivery.SMS{To: to, Body: "Code 123", Type: delivery.SMSTransactional, SenderID: "Shop", OriginationNumber: "+14155550199"})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := moto.SentSMS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []motoserver.SMS
	for _, s := range sent {
		if s.MessageID == id {
			got = append(got, s)
		}
	}
	if diff := cmp.Diff([]motoserver.SMS{{MessageID: id, PhoneNumber: to, Message: "Code 123"}}, got); diff != "" {
		t.Errorf("moto's SMS (-want +got):\n%s", diff)
	}
	attrs := map[string]string{}
	for k, v := range rec.publishes[0].MessageAttributes {
		attrs[k] = aws.ToString(v.DataType) + ":" + aws.ToString(v.StringValue)
	}
	want := map[string]string{"AWS.SNS.SMS.SMSType": "String:Transactional", "AWS.SNS.SMS.SenderID": "String:Shop",
		"AWS.MM.SMS.OriginationNumber": "String:+14155550199"}
	if diff := cmp.Diff(want, attrs); diff != "" {
		t.Errorf("message attributes (-want +got):\n%s", diff)
	}
}

func TestOptedOutNumbers(t *testing.T) {
	c, _, _ := newClient(t)
	for phone, want := range map[string]bool{"+14155550199": true, "+14155550100": false} {
		got, err := c.OptedOut(context.Background(), phone)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("OptedOut(%s) = %v, want %v (moto opts out numbers ending in 99)", phone, got, want)
		}
	}
}

// endpointRecord is a platform endpoint as moto's data.json shows it.
type endpointRecord struct {
	ARN      string            `json:"arn"`
	Token    string            `json:"token"`
	Enabled  bool              `json:"enabled"`
	Messages map[string]string `json:"messages"`
}

func endpoints(t *testing.T, moto *motoserver.Server) map[string]endpointRecord {
	t.Helper()
	d, err := moto.Data(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var recs []endpointRecord
	if err := d.Records("sns", "PlatformEndpoint", &recs); err != nil {
		t.Fatal(err)
	}
	out := map[string]endpointRecord{}
	for _, r := range recs {
		out[r.ARN] = r
	}
	return out
}

func platformApp(t *testing.T, moto *motoserver.Server, platform string) string {
	t.Helper()
	out, err := awssns.NewFromConfig(moto.AWSConfig()).CreatePlatformApplication(context.Background(), &awssns.CreatePlatformApplicationInput{
		Name: aws.String(fmt.Sprintf("app-%d", seq.Add(1))), Platform: aws.String(platform), Attributes: map[string]string{"PlatformCredential": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.PlatformApplicationArn)
}

func TestEndpointIsIdempotentAndPushReachesIt(t *testing.T) {
	c, _, moto := newClient(t)
	ctx := context.Background()
	app := platformApp(t, moto, "GCM")
	ep, err := c.Endpoint(ctx, app, "token-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Endpoint(ctx, app, "token-1")
	if err != nil || again != ep {
		t.Fatalf("second Endpoint = %q, %v; want the same %q", again, err, ep)
	}
	msg := `{"default":"hi","GCM":"{\"fcmV1Message\":{\"message\":{\"notification\":{\"body\":\"hi\"}}}}"}`
	id, err := c.Push(ctx, ep, msg)
	if err != nil {
		t.Fatal(err)
	}
	rec := endpoints(t, moto)[ep]
	if rec.Token != "token-1" || !rec.Enabled {
		t.Errorf("endpoint = %+v", rec)
	}
	var got, want any
	_ = json.Unmarshal([]byte(rec.Messages[id]), &got)
	_ = json.Unmarshal([]byte(msg), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("published message (-want +got):\n%s", diff)
	}
}

func TestAPublishToADisabledEndpointIsAnInvalidToken(t *testing.T) {
	c, _, moto := newClient(t)
	ctx := context.Background()
	app := platformApp(t, moto, "APNS")
	api := awssns.NewFromConfig(moto.AWSConfig())
	out, err := api.CreatePlatformEndpoint(ctx, &awssns.CreatePlatformEndpointInput{PlatformApplicationArn: aws.String(app), Token: aws.String("dead"),
		Attributes: map[string]string{"Enabled": "false"}})
	if err != nil {
		t.Fatal(err)
	}
	ep := aws.ToString(out.EndpointArn)
	if _, err := c.Push(ctx, ep, `{"default":"hi"}`); !errors.Is(err, delivery.ErrInvalidToken) {
		t.Errorf("Push(disabled) error = %v, want ErrInvalidToken", err)
	}
	if n := len(endpoints(t, moto)[ep].Messages); n != 0 {
		t.Errorf("the disabled endpoint holds %d messages", n)
	}
	if _, err := c.Push(ctx, app+"/gone", `{"default":"hi"}`); !errors.Is(err, delivery.ErrEndpointGone) {
		t.Errorf("Push(deleted) error = %v, want ErrEndpointGone", err)
	}
	// Registering the token again (the app reinstalled) re-enables it.
	again, err := c.Endpoint(ctx, app, "dead")
	if err != nil || again != ep {
		t.Fatalf("Endpoint(re-registered) = %q, %v", again, err)
	}
	if !endpoints(t, moto)[ep].Enabled {
		t.Error("the re-registered endpoint is still disabled")
	}
}

func TestEndpointEnabledReadsTheEndpointsState(t *testing.T) {
	c, _, moto := newClient(t)
	ctx := context.Background()
	app := platformApp(t, moto, "GCM")
	api := awssns.NewFromConfig(moto.AWSConfig())
	ep, err := c.Endpoint(ctx, app, fmt.Sprintf("token-%d", seq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	if on, err := c.EndpointEnabled(ctx, ep); err != nil || !on {
		t.Errorf("EndpointEnabled(made) = %v, %v; want true", on, err)
	}
	// The platform refused the token: SNS disables the endpoint.
	if _, err := api.SetEndpointAttributes(ctx, &awssns.SetEndpointAttributesInput{EndpointArn: aws.String(ep),
		Attributes: map[string]string{"Enabled": "false"}}); err != nil {
		t.Fatal(err)
	}
	if on, err := c.EndpointEnabled(ctx, ep); err != nil || on {
		t.Errorf("EndpointEnabled(disabled) = %v, %v; want false", on, err)
	}
	if _, err := api.DeleteEndpoint(ctx, &awssns.DeleteEndpointInput{EndpointArn: aws.String(ep)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EndpointEnabled(ctx, ep); !errors.Is(err, delivery.ErrEndpointGone) {
		t.Errorf("EndpointEnabled(deleted) error = %v, want ErrEndpointGone", err)
	}
}
