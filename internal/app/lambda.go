package app

import (
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/heraldhq/herald/internal/awsenv"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/tracing"
)

// Main is the whole body of a function's main: it loads the configuration
// from the environment and the SDK configuration once, builds the handler
// with build and hands it to the Lambda runtime. A bad configuration stops
// the function at init, before any event is accepted.
func Main(name string, build func(*App) (any, error)) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		log.Fatalf("%s: aws config: %v", name, err)
	}
	a := New(cfg, awsCfg, lambdacontext.NewLogger())
	// EMF lines beside the logger's (which writes to stdout), where
	// CloudWatch Logs extracts them.
	a.SetMetrics(NewMetrics(os.Stdout, name, cfg))
	// Subsegments to the X-Ray daemon Lambda runs with active tracing.
	a.SetTracer(tracing.FromEnv(os.Getenv))
	h, err := build(a)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	lambda.Start(h)
}
