# Herald's one Makefile: local development, CI and the SAM makefile builder
# (sam build runs the build-<LogicalId> targets with ARTIFACTS_DIR set).

GO ?= go
# Where `make build` puts bootstraps: build/<LogicalId>/bootstrap, like .aws-sam.
BUILD_DIR ?= build
# Lambda bootstraps: static, stripped, arm64 (Graviton), no RPC shim.
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -trimpath -tags lambda.norpc -ldflags="-s -w"

# Ports of the local cloud's HTTP API and of its moto, for run and invoke:
# make run PORT=3100 MOTO_PORT=5100. Set on the command line only, so that a
# PORT in the environment (many tools export one) does not move them.
PORT = 3000
MOTO_PORT = 5000

FUNCTIONS := TriggerFunction ManageFunction DispatchFunction DeadLetterFunction SchedulerFunction FeedbackFunction WebhookFunction ReportsFunction

.PHONY: all run test lint build bench bench-js invoke coldstart clean $(addprefix build-,$(FUNCTIONS))

all: lint test

## run: the whole service locally on http://127.0.0.1:$(PORT) (moto on :$(MOTO_PORT))
run:
	$(GO) run ./infra/cmd/herald-local -addr 127.0.0.1:$(PORT) -moto-port $(MOTO_PORT)

## test: every test; integration tests start moto_server themselves
test:
	$(GO) test ./...

## lint: gofmt, go mod tidy (go.mod and go.sum as tidy leaves them), go vet, cfn-lint
lint:
	@out="$$(gofmt -l $$(find . -name '*.go' -not -path './build/*' -not -path './.aws-sam/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(GO) vet ./...
	cfn-lint template.yaml

## build: every function's bootstrap into build/<LogicalId>/bootstrap
build: $(addprefix $(BUILD_DIR)/,$(addsuffix /bootstrap,$(FUNCTIONS)))

$(BUILD_DIR)/%/bootstrap: FORCE
	$(MAKE) --no-print-directory build-$* ARTIFACTS_DIR=$(BUILD_DIR)/$*

.PHONY: FORCE
FORCE:

# SAM makefile builder targets (Metadata: BuildMethod: makefile).
build-TriggerFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/trigger
build-ManageFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/manage
build-DispatchFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/dispatch
build-DeadLetterFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/deadletter

build-FeedbackFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/feedback
build-SchedulerFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/scheduler
build-WebhookFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/webhook
build-ReportsFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/reports

## invoke: run one function's bootstrap under aws-lambda-rie with an event,
##         e.g. make invoke FN=TriggerFunction EVENT=events/trigger.unitary.json;
##         attaches to the local cloud `make run` runs on PORT/MOTO_PORT, unchanged
invoke:
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<LogicalId> EVENT=events/<file>.json [PORT=3000] [MOTO_PORT=5000]"; exit 2; }
	$(GO) run ./infra/cmd/herald-invoke -fn $(FN) -event $(EVENT) -api-url http://127.0.0.1:$(PORT) -moto-url http://127.0.0.1:$(MOTO_PORT)

## coldstart: each function's size and first invoke under aws-lambda-rie, against a hello world
##            and baselines with its SDK clients (and their operations it links), built in the
##            same run (RUNS cold invokes each; the first invoke also less its wait on moto)
RUNS ?= 7
COLDSTART_EVENTS = TriggerFunction:trigger.health ManageFunction:manage.unknown-field DispatchFunction:dispatch.poison \
	WebhookFunction:webhook.poison DeadLetterFunction:deadletter.closes-and-parks FeedbackFunction:feedback.ses-delivery \
	ReportsFunction:reports.counter-change SchedulerFunction:scheduler.campaign-start-nothing-to-do
coldstart:
	@for spec in $(COLDSTART_EVENTS); do \
		$(GO) run ./infra/cmd/herald-invoke -fn $${spec%%:*} -event events/$${spec##*:}.json -coldstarts $(RUNS) \
			-api-url http://127.0.0.1:$(PORT) -moto-url http://127.0.0.1:$(MOTO_PORT) || exit 1; \
	done

## bench: benchmarks only
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-js: handlebars.js beside Herald's engine on the bench email, in one run (needs node and npm)
bench-js:
	cd internal/render/bench/handlebars && npm ci --no-audit --no-fund --silent && node bench.js
	cd internal/render/bench && $(GO) test -run '^$$' -bench 'HeraldEmail$$' -benchmem -count 3

## clean: remove build output
clean:
	rm -rf $(BUILD_DIR) .aws-sam
