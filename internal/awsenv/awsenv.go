// Package awsenv builds the SDK configuration of a Lambda function from
// the environment Lambda gives it, and nothing else.
//
// Lambda sets the region (AWS_REGION) and the function role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), valid for
// the execution environment's life, in every function's environment:
// the SDK's default chain finds them first and never reaches the shared
// config files, SSO, the container endpoint or IMDS. Reading them directly
// links none of those providers (about 1 MiB of each bootstrap) and skips
// their set-up at start. AWS_ENDPOINT_URL, when set, points every client
// at one endpoint, as the SDK's own loader does: how the local cloud and
// `make invoke` point a function at moto.
//
// Command-line tools, which run with a developer's profile, keep
// config.LoadDefaultConfig.
package awsenv

import (
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config returns the SDK configuration of a function whose environment
// getenv reads. It fails when the region or the credentials are missing:
// in Lambda they never are, and a function without them could not make a
// single call.
func Config(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("awsenv: AWS_REGION is not set")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("awsenv: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
	}
	if u := getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	if n, err := strconv.Atoi(getenv("AWS_MAX_ATTEMPTS")); err == nil && n > 0 {
		cfg.RetryMaxAttempts = n
	}
	return cfg, nil
}
