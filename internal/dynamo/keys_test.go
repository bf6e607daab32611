package dynamo_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/dynamo"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestKeyStoreContract(t *testing.T) {
	storetest.Keys(t, func(t *testing.T) auth.KeyStore { return newStore(t) })
	storetest.KeysByID(t, func(t *testing.T) auth.KeyStore { return newStore(t) })
}

// strictAPI stands for DynamoDB where moto is lenient: it counts calls
// and fails them all, as DynamoDB fails a read whose key is over its
// limits (ValidationException, a 500 once it reached the edge).
type strictAPI struct {
	dynamo.API
	calls int
}

func (a *strictAPI) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	a.calls++
	return nil, errValidation
}

func (a *strictAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	a.calls++
	return nil, errValidation
}

var errValidation = &smithy.GenericAPIError{Code: "ValidationException", Message: "key size exceeded"}

func TestKeysBeyondDynamoDBsLimitsNeverReachIt(t *testing.T) {
	long := strings.Repeat("x", 3000)
	cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		call func(s *dynamo.Store) error
		kind derrors.Kind
	}{
		{"a campaign id of 3000 bytes is not found", func(s *dynamo.Store) error { _, err := s.GetCampaign(context.Background(), acme, long); return err }, derrors.NotFound},
		{"a configuration id of 3000 bytes is not found", func(s *dynamo.Store) error { _, err := s.GetConfig(context.Background(), acme, long); return err }, derrors.NotFound},
		{"an audience id of 3000 bytes is not found", func(s *dynamo.Store) error { _, err := s.GetAudience(context.Background(), acme, long); return err }, derrors.NotFound},
		{"a suppression cursor of 2000 bytes is invalid", func(s *dynamo.Store) error {
			_, err := s.ListSuppressions(context.Background(), acme, "", 10, cursor("email#"+strings.Repeat("a", 2000)))
			return err
		}, derrors.Invalid},
		{"a suppression cursor that is not UTF-8 is invalid", func(s *dynamo.Store) error {
			_, err := s.ListSuppressions(context.Background(), acme, "", 10, cursor("email#\xff"))
			return err
		}, derrors.Invalid},
		{"a members cursor of 2000 bytes is invalid", func(s *dynamo.Store) error {
			_, err := s.Members(context.Background(), acme, "a1", cursor("M#"+strings.Repeat("a", 2000)), 10)
			return err
		}, derrors.Invalid},
		{"a versions cursor of 2000 bytes is invalid", func(s *dynamo.Store) error {
			_, err := s.ListVersions(context.Background(), acme, "c1", 10, cursor("V#"+strings.Repeat("1", 2000)))
			return err
		}, derrors.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &strictAPI{}
			err := tt.call(dynamo.New(api, "herald"))
			if k := derrors.KindOf(err); k != tt.kind {
				t.Errorf("error = %v (kind %d), want kind %d", err, k, tt.kind)
			}
			if api.calls != 0 {
				t.Errorf("%d calls reached DynamoDB, want none", api.calls)
			}
		})
	}
}

func TestIndexKeysGivesOldKeysTheirIDItem(t *testing.T) {
	s, api, table := newRawStore(t)
	ctx := context.Background()
	// A key as releases before access tokens stored it: the hash item only.
	old, err := attributevalue.MarshalMap(map[string]any{"pk": "KEY#h-old", "sk": "KEY", "keyId": "hk_old",
		"org": acme.Org, "sandbox": acme.Sandbox, "scopes": []string{"read"}, "createdAt": "2026-01-02T03:04:05Z"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: old}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKey(ctx, "h-new", auth.Key{ID: "hk_new", Tenant: acme, Scopes: []auth.Scope{auth.ScopeRead}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKeyByID(ctx, "hk_old"); !derrors.Is(err, derrors.NotFound) {
		t.Fatalf("GetKeyByID(old key) before indexing = %v, want NotFound", err)
	}
	for i, want := range []int{1, 0} {
		n, err := s.IndexKeys(ctx)
		if err != nil || n != want {
			t.Errorf("IndexKeys run %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	if k, err := s.GetKeyByID(ctx, "hk_old"); err != nil || k.Tenant != acme {
		t.Errorf("GetKeyByID(old key) after indexing = %+v, %v", k, err)
	}
	if err := s.RevokeKey(ctx, "hk_old"); err != nil {
		t.Fatalf("RevokeKey(indexed old key): %v", err)
	}
	if _, err := s.GetKey(ctx, "h-old"); !derrors.Is(err, derrors.NotFound) {
		t.Errorf("the old key's secret after revocation: %v, want NotFound", err)
	}
}
