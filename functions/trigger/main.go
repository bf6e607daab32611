// Command trigger serves the AJO-compatible execution API (/im/*), and
// EventBridge events or schedules carrying the same bodies.
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
		log.Fatalf("trigger: %v", err)
	}
	awsCfg, err := app.LoadAWS(context.Background())
	if err != nil {
		log.Fatalf("trigger: aws config: %v", err)
	}
	a := app.New(cfg, awsCfg, lambdacontext.NewLogger())
	h, err := a.TriggerEventHandler()
	if err != nil {
		log.Fatalf("trigger: %v", err)
	}
	lambda.Start(h)
}
