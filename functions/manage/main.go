// Command manage serves the management API: channel configurations,
// campaigns and profiles.
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
		log.Fatalf("manage: %v", err)
	}
	awsCfg, err := app.LoadAWS(context.Background())
	if err != nil {
		log.Fatalf("manage: aws config: %v", err)
	}
	a := app.New(cfg, awsCfg, lambdacontext.NewLogger())
	lambda.Start(a.ManageHandler())
}
