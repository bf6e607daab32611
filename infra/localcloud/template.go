package localcloud

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	cfnsqs "github.com/awslabs/goformation/v7/cloudformation/sqs"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// Resource types the local cloud understands.
const (
	typeTable    = "AWS::DynamoDB::Table"
	typeQueue    = "AWS::SQS::Queue"
	typeFunction = "AWS::Serverless::Function"
	typeHTTPAPI  = "AWS::Serverless::HttpApi"
	typeSchedGrp = "AWS::Scheduler::ScheduleGroup"
	typeRole     = "AWS::IAM::Role"
	typeTopic    = "AWS::SNS::Topic"
	typeSecret   = "AWS::SecretsManager::Secret"
)

// StackOptions says where the stack is being "deployed".
type StackOptions struct {
	// Name prefixes physical resource names, as CloudFormation prefixes
	// them with the stack name; default "herald-local".
	Name string
	// MotoURL is the endpoint queues live at (their URLs embed it).
	MotoURL string
	// Region and AccountID default to moto's us-east-1 / 123456789012.
	Region    string
	AccountID string
	// Parameters override template parameter defaults, like
	// sam deploy --parameter-overrides.
	Parameters map[string]string
}

// Stack is what the local cloud needs from template.yaml, with every
// intrinsic function resolved against local physical names.
type Stack struct {
	Name       string
	Region     string
	AccountID  string
	Parameters map[string]string
	// Tables and Queues are sorted by logical ID; Queues lists dead-letter
	// queues before the queues that redrive to them.
	Tables    []*Table
	Queues    []*Queue
	Functions map[string]*Function
	// Routes are the HttpApi events of every function.
	Routes []Route
	// ScheduleGroups are the physical names of the EventBridge Scheduler
	// schedule groups.
	ScheduleGroups []string
	// Topics are the ARNs of the SNS topics the template declares: the
	// only topics a function may publish to (CheckSendPermissions).
	Topics []string
	// Secrets are the names of the Secrets Manager secrets the template
	// declares (a Ref of one is its name here, which Secrets Manager
	// takes wherever it takes an ARN); each is created with a generated
	// value, as GenerateSecretString does.
	Secrets []string
}

// Table is an AWS::DynamoDB::Table of the template.
type Table struct {
	LogicalID string
	Name      string
	ARN       string
	Def       *cfndynamodb.Table
}

// Queue is an AWS::SQS::Queue of the template.
type Queue struct {
	LogicalID string
	Name      string
	URL       string
	ARN       string
	Def       *cfnsqs.Queue
	// DeadLetterARN and MaxReceiveCount come from RedrivePolicy.
	DeadLetterARN   string
	MaxReceiveCount int
}

// Function is an AWS::Serverless::Function of the template, with Globals
// applied.
type Function struct {
	LogicalID string
	// Name is the physical function name (AWS_LAMBDA_FUNCTION_NAME).
	Name    string
	ARN     string
	Env     map[string]string
	Timeout time.Duration
	Memory  int
	// SQS lists the function's SQS event sources; DynamoDB its DynamoDB
	// stream event sources.
	SQS      []SQSSource
	DynamoDB []DynamoDBSource
	// Policy is what the function's role may do.
	Policy Policy
}

// SQSSource is an SQS event source of a function.
type SQSSource struct {
	QueueARN                string
	BatchSize               int
	ReportBatchItemFailures bool
}

// Route is one HttpApi event: a method and path template served by a
// function, behind an authorizer function unless Authorizer is empty.
type Route struct {
	Method     string // upper case; "ANY" matches every method
	Path       string // as in the template: /campaigns/{id}, /files/{proxy+}
	Function   string // logical ID
	Authorizer string // logical ID of the Lambda authorizer; "" for none
}

// Key is the API Gateway route key, "POST /campaigns".
func (r Route) Key() string { return r.Method + " " + r.Path }

// LoadStack parses the SAM template at path with goformation, resolving
// Ref, Fn::GetAtt and Fn::Sub to the physical names the local cloud uses:
// a table or queue is named "<stack>-<LogicalId>" unless the template
// names it, a queue's Ref is its URL at opts.MotoURL.
func LoadStack(path string, opts StackOptions) (*Stack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	if opts.Name == "" {
		opts.Name = "herald-local"
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "123456789012"
	}
	r := &resolver{opts: opts}
	params := map[string]any{}
	for k, v := range opts.Parameters {
		params[k] = v
	}
	// goformation replaces any object holding a Condition key with the
	// condition's value, a resource's too; so a resource's Condition is
	// moved under a key of its own first, evaluated there, and resources
	// whose condition is false are dropped (as CloudFormation does).
	data = resourceCondition.ReplaceAll(data, []byte("    "+localCondition+": {Condition: $1}"))
	processed, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        r.ref,
			"Fn::GetAtt": r.getAtt,
			"Fn::Sub":    r.sub,
		},
		ParameterOverrides: params,
		EvaluateConditions: true,
	})
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	if processed, err = dropConditioned(processed); err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	tmpl, err := goformation.ParseJSONWithOptions(processed, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	// goformation's typed SAM event sources drop properties it does not
	// know (FunctionResponseTypes, say), so events, Globals and the HTTP
	// API's authorizers are read from the resolved JSON directly.
	var raw rawTemplate
	if err := json.Unmarshal(processed, &raw); err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	s := &Stack{Name: opts.Name, Region: opts.Region, AccountID: opts.AccountID, Parameters: map[string]string{}, Functions: map[string]*Function{}}
	for name, p := range tmpl.Parameters {
		if v, ok := opts.Parameters[name]; ok {
			s.Parameters[name] = v
		} else if p.Default != nil {
			s.Parameters[name] = fmt.Sprint(p.Default)
		}
	}
	if err := s.load(tmpl, &raw, r); err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return s, nil
}

// resourceCondition matches a resource's Condition (resources sit at two
// spaces, their attributes at four).
var resourceCondition = regexp.MustCompile(`(?m)^    Condition: ([A-Za-z0-9]+)\s*$`)

const localCondition = "HeraldLocalCondition"

// dropConditioned removes the resources whose condition evaluated false
// and the evaluated conditions of the others, SES resources, which moto
// needs none of (it ignores configuration sets) and goformation's types
// lag behind (EventBridgeDestination), and CloudWatch alarms and
// dashboards, which nothing runs locally and whose thresholds are
// parameters (strings here, numbers to goformation's types); the template
// tests read them from the template itself (templateAlarms).
func dropConditioned(processed []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(processed, &doc); err != nil {
		return nil, err
	}
	resources, _ := doc["Resources"].(map[string]any)
	for id, r := range resources {
		res, ok := r.(map[string]any)
		if !ok {
			continue
		}
		if typ, _ := res["Type"].(string); strings.HasPrefix(typ, "AWS::SES::") || strings.HasPrefix(typ, "AWS::CloudWatch::") {
			delete(resources, id)
			continue
		}
		cond, has := res[localCondition]
		if !has {
			continue
		}
		if cond == false {
			delete(resources, id)
			continue
		}
		delete(res, localCondition)
	}
	return json.Marshal(doc)
}

type rawTemplate struct {
	Globals struct {
		Function rawFunction `json:"Function"`
	} `json:"Globals"`
	Resources map[string]struct {
		Type       string      `json:"Type"`
		Properties rawFunction `json:"Properties"`
	} `json:"Resources"`
}

// rawFunction holds the properties read without goformation: a function's
// Environment, Timeout and Events, or an HttpApi's Auth.
type rawFunction struct {
	Environment struct {
		Variables map[string]any `json:"Variables"`
	} `json:"Environment"`
	Timeout      *int   `json:"Timeout"`
	MemorySize   *int   `json:"MemorySize"`
	FunctionName string `json:"FunctionName"`
	// Policies and Role are a function's permissions (see Policy).
	Policies any `json:"Policies"`
	Role     any `json:"Role"`
	Events   map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Events"`
	Auth struct {
		DefaultAuthorizer string `json:"DefaultAuthorizer"`
		Authorizers       map[string]struct {
			FunctionArn string `json:"FunctionArn"`
		} `json:"Authorizers"`
	} `json:"Auth"`
}

func (s *Stack) load(tmpl *cloudformation.Template, raw *rawTemplate, r *resolver) error {
	ids := slices.Sorted(maps.Keys(tmpl.Resources))
	for _, id := range ids {
		switch raw.Resources[id].Type {
		case typeSchedGrp:
			s.ScheduleGroups = append(s.ScheduleGroups, r.physicalName(id))
		case typeTopic:
			s.Topics = append(s.Topics, r.arn(id, typeTopic))
		case typeSecret:
			s.Secrets = append(s.Secrets, r.physicalName(id))
		}
	}
	byARN := map[string]string{} // function ARN → logical ID
	for _, id := range ids {
		switch res := tmpl.Resources[id].(type) {
		case *cfndynamodb.Table:
			s.Tables = append(s.Tables, &Table{LogicalID: id, Name: r.physicalName(id), ARN: r.arn(id, typeTable), Def: res})
		case *cfnsqs.Queue:
			q := &Queue{LogicalID: id, Name: r.physicalName(id), URL: r.queueURL(id), ARN: r.arn(id, typeQueue), Def: res}
			if rp, err := redrivePolicy(res.RedrivePolicy); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			} else if rp != nil {
				q.DeadLetterARN, q.MaxReceiveCount = rp.DeadLetterTargetArn, rp.MaxReceiveCount
			}
			s.Queues = append(s.Queues, q)
		case *serverless.Function:
			f := &Function{LogicalID: id, Name: r.physicalName(id), ARN: r.arn(id, typeFunction), Env: map[string]string{}, Timeout: 3 * time.Second, Memory: 128}
			if n := raw.Resources[id].Properties.FunctionName; n != "" {
				f.Name, f.ARN = n, r.functionARN(n)
			}
			byARN[f.ARN] = id
			for _, props := range []rawFunction{raw.Globals.Function, raw.Resources[id].Properties} {
				for k, v := range props.Environment.Variables {
					if v == nil { // AWS::NoValue
						delete(f.Env, k)
						continue
					}
					f.Env[k] = fmt.Sprint(v)
				}
				if props.Timeout != nil {
					f.Timeout = time.Duration(*props.Timeout) * time.Second
				}
				if props.MemorySize != nil {
					f.Memory = *props.MemorySize
				}
			}
			props := raw.Resources[id].Properties
			pol, err := ParsePolicies(props.Policies)
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			if props.Role != nil {
				pol.Role = str(props.Role)
			}
			f.Policy = pol
			s.Functions[id] = f
		}
	}
	// Dead-letter queues first, so a queue's RedrivePolicy names an
	// existing queue.
	slices.SortStableFunc(s.Queues, func(a, b *Queue) int {
		return boolInt(a.DeadLetterARN != "") - boolInt(b.DeadLetterARN != "")
	})

	// The default authorizer of each HTTP API, as a function logical ID.
	apiAuth := map[string]string{}
	authorizers := map[string]map[string]string{} // api → authorizer name → function
	for _, id := range ids {
		res := raw.Resources[id]
		if res.Type != typeHTTPAPI {
			continue
		}
		authorizers[id] = map[string]string{}
		for name, a := range res.Properties.Auth.Authorizers {
			fn, ok := byARN[a.FunctionArn]
			if !ok {
				return fmt.Errorf("%s: authorizer %s: FunctionArn %q is not a function of this template", id, name, a.FunctionArn)
			}
			authorizers[id][name] = fn
		}
		if d := res.Properties.Auth.DefaultAuthorizer; d != "" {
			if apiAuth[id] = authorizers[id][d]; apiAuth[id] == "" {
				return fmt.Errorf("%s: DefaultAuthorizer %s is not a Lambda authorizer of the API", id, d)
			}
		}
	}

	for _, id := range ids {
		f, ok := s.Functions[id]
		if !ok {
			continue
		}
		events := raw.Resources[id].Properties.Events
		for _, name := range slices.Sorted(maps.Keys(events)) {
			ev := events[name]
			switch ev.Type {
			case "HttpApi":
				rt, err := route(id, ev.Properties, apiAuth, authorizers, r)
				if err != nil {
					return fmt.Errorf("%s event %s: %w", id, name, err)
				}
				s.Routes = append(s.Routes, rt)
			case "SQS":
				src := SQSSource{QueueARN: str(ev.Properties["Queue"]), BatchSize: 10}
				if n, ok := ev.Properties["BatchSize"].(float64); ok {
					src.BatchSize = int(n)
				}
				if types, ok := ev.Properties["FunctionResponseTypes"].([]any); ok {
					src.ReportBatchItemFailures = slices.Contains(types, any("ReportBatchItemFailures"))
				}
				if s.QueueByARN(src.QueueARN) == nil {
					return fmt.Errorf("%s event %s: queue %q is not a queue of this template", id, name, src.QueueARN)
				}
				f.SQS = append(f.SQS, src)
			case "DynamoDB":
				src, err := dynamoDBSource(ev.Properties)
				if err != nil {
					return fmt.Errorf("%s event %s: %w", id, name, err)
				}
				if s.TableByARN(src.TableARN) == nil {
					return fmt.Errorf("%s event %s: stream %q is not of a table of this template", id, name, str(ev.Properties["Stream"]))
				}
				f.DynamoDB = append(f.DynamoDB, src)
			}
		}
	}
	return nil
}

// streamSuffix ends the local stand-in of a table's StreamArn: the local
// cloud learns moto's stream ARN from DescribeTable.
const streamSuffix = "/stream/local"

func dynamoDBSource(props map[string]any) (DynamoDBSource, error) {
	stream := str(props["Stream"])
	table, ok := strings.CutSuffix(stream, streamSuffix)
	if !ok {
		return DynamoDBSource{}, fmt.Errorf("Stream %q is not a table's StreamArn (Fn::GetAtt <table>.StreamArn)", stream)
	}
	src := DynamoDBSource{TableARN: table, BatchSize: 100, StartingPosition: str(props["StartingPosition"]), MaximumRetryAttempts: -1}
	if n, ok := props["BatchSize"].(float64); ok {
		src.BatchSize = int(n)
	}
	if n, ok := props["MaximumRetryAttempts"].(float64); ok {
		src.MaximumRetryAttempts = int(n)
	}
	if types, ok := props["FunctionResponseTypes"].([]any); ok {
		src.ReportBatchItemFailures = slices.Contains(types, any("ReportBatchItemFailures"))
	}
	if fc, ok := props["FilterCriteria"].(map[string]any); ok {
		filters, _ := fc["Filters"].([]any)
		for i, f := range filters {
			m, _ := f.(map[string]any)
			var pattern map[string]any
			if err := json.Unmarshal([]byte(str(m["Pattern"])), &pattern); err != nil {
				return DynamoDBSource{}, fmt.Errorf("FilterCriteria.Filters[%d].Pattern: %w", i, err)
			}
			src.Filters = append(src.Filters, pattern)
		}
	}
	return src, nil
}

func route(fn string, props map[string]any, apiAuth map[string]string, authorizers map[string]map[string]string, r *resolver) (Route, error) {
	rt := Route{Method: strings.ToUpper(str(props["Method"])), Path: str(props["Path"]), Function: fn}
	if rt.Method == "" || rt.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
		rt.Method = "ANY"
	}
	if rt.Path == "" || rt.Path == "/$default" {
		// SAM's spellings of the $default route: no path, or /$default.
		rt.Path = "$default"
	}
	api := r.logicalID(str(props["ApiId"]))
	if api == "" {
		api = "ServerlessHttpApi" // SAM's implicit API
	}
	rt.Authorizer = apiAuth[api]
	if auth, ok := props["Auth"].(map[string]any); ok {
		switch name := str(auth["Authorizer"]); name {
		case "":
		case "NONE":
			rt.Authorizer = ""
		default:
			if rt.Authorizer = authorizers[api][name]; rt.Authorizer == "" {
				return Route{}, fmt.Errorf("authorizer %s is not a Lambda authorizer of %s", name, api)
			}
		}
	}
	return rt, nil
}

type redrive struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

func redrivePolicy(v any) (*redrive, error) {
	if v == nil {
		return nil, nil
	}
	var b []byte
	if s, ok := v.(string); ok { // a JSON string is allowed too
		b = []byte(s)
	} else {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	var rp redrive
	// maxReceiveCount may be a number or a string in templates.
	var loose struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal(b, &loose); err != nil {
		return nil, fmt.Errorf("RedrivePolicy: %w", err)
	}
	rp.DeadLetterTargetArn = loose.DeadLetterTargetArn
	if _, err := fmt.Sscan(fmt.Sprint(loose.MaxReceiveCount), &rp.MaxReceiveCount); err != nil || rp.DeadLetterTargetArn == "" {
		return nil, fmt.Errorf("RedrivePolicy needs deadLetterTargetArn and maxReceiveCount")
	}
	return &rp, nil
}

// QueueByARN returns the queue with that ARN, or nil.
func (s *Stack) QueueByARN(arn string) *Queue {
	for _, q := range s.Queues {
		if q.ARN == arn {
			return q
		}
	}
	return nil
}

// resolver implements Ref, Fn::GetAtt and Fn::Sub for the local stack.
// goformation hands each handler the whole template as a generic map.
type resolver struct {
	opts StackOptions
}

func (r *resolver) physicalName(id string) string { return r.opts.Name + "-" + id }

func (r *resolver) queueURL(id string) string {
	return strings.TrimRight(r.opts.MotoURL, "/") + "/" + r.opts.AccountID + "/" + r.physicalName(id)
}

func (r *resolver) arn(id, typ string) string {
	p := "arn:aws:"
	switch typ {
	case typeTable:
		return p + "dynamodb:" + r.opts.Region + ":" + r.opts.AccountID + ":table/" + r.physicalName(id)
	case typeQueue:
		return p + "sqs:" + r.opts.Region + ":" + r.opts.AccountID + ":" + r.physicalName(id)
	case typeFunction:
		return r.functionARN(r.physicalName(id))
	case typeRole:
		return p + "iam::" + r.opts.AccountID + ":role/" + r.physicalName(id)
	case typeTopic:
		return p + "sns:" + r.opts.Region + ":" + r.opts.AccountID + ":" + r.physicalName(id)
	}
	return p + "local:" + r.opts.Region + ":" + r.opts.AccountID + ":" + id
}

// resolved is v with a nested Fn::Sub or Ref resolved (a handler sees
// the template before its inner intrinsics are processed).
func (r *resolver) resolved(v any, template any) string {
	if m, ok := v.(map[string]any); ok {
		if sub, ok := m["Fn::Sub"]; ok {
			return str(r.sub("", sub, template))
		}
		if ref, ok := m["Ref"]; ok {
			return str(r.ref("", ref, template))
		}
	}
	return str(v)
}

func (r *resolver) functionARN(name string) string {
	return "arn:aws:lambda:" + r.opts.Region + ":" + r.opts.AccountID + ":function:" + name
}

// logicalID maps a resolved Ref back to its logical ID (for ApiId).
func (r *resolver) logicalID(ref string) string {
	if id, ok := strings.CutPrefix(ref, r.opts.Name+"-"); ok {
		return id
	}
	return ref
}

func resourceType(template any, id string) (string, map[string]any) {
	t, _ := template.(map[string]any)
	res, _ := t["Resources"].(map[string]any)
	r, _ := res[id].(map[string]any)
	props, _ := r["Properties"].(map[string]any)
	typ, _ := r["Type"].(string)
	return typ, props
}

func (r *resolver) ref(_ string, input any, template any) any {
	name, ok := input.(string)
	if !ok {
		return nil
	}
	switch name {
	case "AWS::AccountId":
		return r.opts.AccountID
	case "AWS::Region":
		return r.opts.Region
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::StackName":
		return r.opts.Name
	case "AWS::StackId":
		return "arn:aws:cloudformation:" + r.opts.Region + ":" + r.opts.AccountID + ":stack/" + r.opts.Name + "/local"
	case "AWS::NoValue":
		return nil
	}
	typ, props := resourceType(template, name)
	switch typ {
	case "":
		// A parameter: its override or default (goformation's Ref).
		return intrinsics.Ref("Ref", name, template)
	case typeTable:
		if n := str(props["TableName"]); n != "" {
			return n
		}
	case typeQueue:
		return r.queueURL(name)
	case typeHTTPAPI:
		return r.physicalName(name)
	case typeTopic:
		return r.arn(name, typeTopic)
	}
	return r.physicalName(name)
}

func (r *resolver) getAtt(_ string, input any, template any) any {
	var id, attr string
	switch v := input.(type) {
	case []any:
		if len(v) == 2 {
			id, attr = str(v[0]), str(v[1])
		}
	case string:
		id, attr, _ = strings.Cut(v, ".")
	}
	typ, _ := resourceType(template, id)
	switch {
	case typ == typeQueue && attr == "Arn":
		return r.arn(id, typ)
	case typ == typeQueue && attr == "QueueName":
		return r.physicalName(id)
	case typ == typeQueue && attr == "QueueUrl":
		return r.queueURL(id)
	case typ == typeTable && attr == "Arn":
		return r.arn(id, typ)
	case typ == typeTable && attr == "StreamArn":
		return r.arn(id, typ) + streamSuffix
	case typ == typeFunction && attr == "Arn":
		if _, props := resourceType(template, id); props["FunctionName"] != nil {
			return r.functionARN(r.resolved(props["FunctionName"], template))
		}
		return r.arn(id, typ)
	case typ == typeRole && attr == "Arn":
		return r.arn(id, typ)
	}
	return fmt.Sprintf("local:%s.%s", id, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r *resolver) sub(_ string, input any, template any) any {
	var src string
	vars := map[string]any{}
	switch v := input.(type) {
	case string:
		src = v
	case []any:
		if len(v) != 2 {
			return nil
		}
		src = str(v[0])
		vars, _ = v[1].(map[string]any)
	default:
		return nil
	}
	return subVar.ReplaceAllStringFunc(src, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return str(v)
		}
		if strings.Contains(name, ".") {
			return str(r.getAtt("", name, template))
		}
		return str(r.ref("", name, template))
	})
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
