// Command scheduler is the target of every EventBridge Scheduler schedule
// Herald creates: scheduled, recurring and paced audience executions, and
// campaign starts and ends.
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
		log.Fatalf("scheduler: %v", err)
	}
	awsCfg, err := app.LoadAWS(context.Background())
	if err != nil {
		log.Fatalf("scheduler: aws config: %v", err)
	}
	h, err := app.New(cfg, awsCfg, lambdacontext.NewLogger()).SchedulerHandler()
	if err != nil {
		log.Fatalf("scheduler: %v", err)
	}
	lambda.Start(h)
}
