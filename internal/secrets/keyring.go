// Package secrets reads the access-token signing key from AWS Secrets
// Manager.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
)

// API is the part of the Secrets Manager client the keyring uses.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Refresh is how long a container keeps the versions it read; a rotated
// secret signs new tokens everywhere within it.
const Refresh = 5 * time.Minute

// minRefetch spaces the re-reads an unknown key id triggers (a token
// signed by a version this container has not seen yet), so forged ids
// cannot turn every request into a Secrets Manager call.
const minRefetch = 30 * time.Second

// Keyring is an auth.Keyring over one secret: its AWSCURRENT version
// signs, AWSCURRENT and AWSPREVIOUS verify, and a version's id is the
// key id tokens carry. Rotating the secret (put-secret-value, or a
// rotation schedule) moves the old version to AWSPREVIOUS, so tokens it
// signed stay valid until they expire (24 h), if the secret is not
// rotated twice within a day. The secret is read on first use, not at
// start-up: a container that never sees a token never reads it.
type Keyring struct {
	api    API
	secret string
	now    func() time.Time

	mu      sync.Mutex
	current version
	byID    map[string][]byte
	read    time.Time // when the versions were last read
}

type version struct {
	id  string
	key []byte
}

var _ auth.Keyring = (*Keyring)(nil)

// NewKeyring returns the keyring of secret (its ARN or name).
func NewKeyring(api API, secret string) *Keyring {
	return &Keyring{api: api, secret: secret, now: time.Now}
}

// SigningKey implements auth.Keyring.
func (k *Keyring) SigningKey(ctx context.Context) (string, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.load(ctx, Refresh); err != nil {
		return "", nil, err
	}
	return k.current.id, k.current.key, nil
}

// VerifyingKey implements auth.Keyring.
func (k *Keyring) VerifyingKey(ctx context.Context, kid string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.load(ctx, Refresh); err != nil {
		return nil, err
	}
	if key, ok := k.byID[kid]; ok {
		return key, nil
	}
	// A version newer than what this container read: read again, at
	// most every minRefetch.
	if err := k.load(ctx, minRefetch); err != nil {
		return nil, err
	}
	if key, ok := k.byID[kid]; ok {
		return key, nil
	}
	return nil, derrors.New(derrors.NotFound, "no signing key with that id")
}

// load reads the versions when they are older than maxAge.
func (k *Keyring) load(ctx context.Context, maxAge time.Duration) error {
	now := k.now()
	if k.byID != nil && now.Sub(k.read) < maxAge {
		return nil
	}
	cur, err := k.get(ctx, "AWSCURRENT")
	if err != nil {
		return err
	}
	byID := map[string][]byte{cur.id: cur.key}
	prev, err := k.get(ctx, "AWSPREVIOUS")
	var nf *types.ResourceNotFoundException
	switch {
	case err == nil:
		byID[prev.id] = prev.key
	case errors.As(err, &nf):
		// A secret never rotated has no previous version.
	default:
		return err
	}
	k.current, k.byID, k.read = cur, byID, now
	return nil
}

func (k *Keyring) get(ctx context.Context, stage string) (version, error) {
	out, err := k.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(k.secret), VersionStage: aws.String(stage)})
	if err != nil {
		return version{}, fmt.Errorf("read token signing key %s: %w", stage, err)
	}
	key := []byte(aws.ToString(out.SecretString))
	if len(key) == 0 {
		key = out.SecretBinary
	}
	if len(key) < auth.MinSigningKey {
		return version{}, fmt.Errorf("the token signing key's %s version is %d bytes; at least %d are needed", stage, len(key), auth.MinSigningKey)
	}
	return version{id: aws.ToString(out.VersionId), key: key}, nil
}
