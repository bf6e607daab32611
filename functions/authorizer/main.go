// Command authorizer is the HTTP API Lambda authorizer: it resolves the bearer
// secret to an API key and passes the tenant and scopes to the routes.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/config"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		log.Fatalf("authorizer: %v", err)
	}
	awsCfg, err := app.LoadAWS(context.Background())
	if err != nil {
		log.Fatalf("authorizer: aws config: %v", err)
	}
	a := app.New(cfg, awsCfg, lambdacontext.NewLogger())
	lambda.Start(a.AuthorizerHandler())
}
