package secrets_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/heraldhq/herald/infra/motoserver"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/secrets"
)

var seq atomic.Int64

// counting counts GetSecretValue calls.
type counting struct {
	secrets.API
	calls int
}

func (c *counting) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.calls++
	return c.API.GetSecretValue(ctx, in, opts...)
}

func TestKeyringSignsWithCurrentAndVerifiesPreviousAfterRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("needs moto")
	}
	moto := motoserver.Shared(t)
	ctx := context.Background()
	api := secretsmanager.NewFromConfig(moto.AWSConfig())
	name := fmt.Sprintf("herald-token-%d-%d", os.Getpid(), seq.Add(1))
	if _, err := api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(strings.Repeat("a", 48))}); err != nil {
		t.Fatal(err)
	}
	calls := &counting{API: api}
	ring := secrets.NewKeyring(calls, name)
	clock := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	secrets.SetClock(ring, func() time.Time { return clock })

	kid1, key1, err := ring.SigningKey(ctx)
	if err != nil {
		t.Fatalf("SigningKey on a secret never rotated: %v", err)
	}
	if string(key1) != strings.Repeat("a", 48) || kid1 == "" {
		t.Fatalf("SigningKey = %q, %q", kid1, key1)
	}
	if _, err := ring.VerifyingKey(ctx, kid1); err != nil {
		t.Fatal(err)
	}
	if calls.calls != 2 {
		t.Errorf("%d reads for the first key, want 2 (current and previous)", calls.calls)
	}

	// Rotate: a new version becomes current, the old one previous.
	if _, err := api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(strings.Repeat("b", 48))}); err != nil {
		t.Fatal(err)
	}
	if kid, _, _ := ring.SigningKey(ctx); kid != kid1 {
		t.Errorf("within the refresh period the container still signs with %q, got %q", kid1, kid)
	}
	clock = clock.Add(secrets.Refresh)
	kid2, key2, err := ring.SigningKey(ctx)
	if err != nil || kid2 == kid1 || string(key2) != strings.Repeat("b", 48) {
		t.Fatalf("SigningKey after rotation = %q, %q, %v; want the new version", kid2, key2, err)
	}
	if got, err := ring.VerifyingKey(ctx, kid1); err != nil || string(got) != string(key1) {
		t.Errorf("VerifyingKey(previous) = %q, %v; want the old key: its tokens live out their day", got, err)
	}

	// An unknown id re-reads at most every 30 s.
	before := calls.calls
	for range 5 {
		if _, err := ring.VerifyingKey(ctx, "forged"); !derrors.Is(err, derrors.NotFound) {
			t.Errorf("VerifyingKey(forged) = %v, want NotFound", err)
		}
	}
	if calls.calls-before > 2 {
		t.Errorf("5 forged ids made %d reads, want at most one refresh (2 reads)", calls.calls-before)
	}

	short := fmt.Sprintf("herald-short-%d-%d", os.Getpid(), seq.Add(1))
	if _, err := api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(short), SecretString: aws.String("too-short")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := secrets.NewKeyring(api, short).SigningKey(ctx); err == nil {
		t.Error("a 9-byte signing key was accepted")
	}
	if _, _, err := secrets.NewKeyring(api, "no-such-secret").SigningKey(ctx); err == nil {
		t.Error("a missing secret gave a signing key")
	}
}
