// Package motoserver runs moto (https://github.com/getmoto/moto) as a child
// process on a loopback port, so tests and the local runner talk to DynamoDB,
// SES v2, SNS, SQS and EventBridge Scheduler over the real AWS wire
// protocols without an AWS account or Docker.
//
// Start launches a private server; Connect wraps one that is already
// running (herald-local's on port 5000, say). Tests share one server per
// test binary through Shared; a package that uses it stops it at exit:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		motoserver.StopShared()
//		os.Exit(code)
//	}
//
// and each test calls motoserver.Shared(t) and works in resources it names
// uniquely (or calls Reset when it owns the whole server). Without
// TestMain the kernel still stops the server when the test binary exits
// (Linux parent-death signal), just less politely.
//
// moto state is inspected through its /moto-api: Data returns everything,
// SentEmails, SentRawEmails and SentSMS return what Herald "sent".
package motoserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Binary is the executable Start runs, looked up on PATH.
const Binary = "moto_server"

// InstallHint tells a user without moto how to get it.
const InstallHint = `moto_server is not on PATH; install it with: pip install "moto[server]"`

// Region, AccountID and the static credentials are what moto accepts and
// what every SDK client pointed at it uses. moto ignores the signature but
// the SDK still needs credentials to sign with.
const (
	Region          = "us-east-1"
	AccountID       = "123456789012"
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// Options configures Start.
type Options struct {
	// Host is the address moto listens on; default 127.0.0.1.
	Host string
	// Port is the port the server answers on; 0 picks a free one.
	Port int
	// Output receives moto's stdout and stderr (its request log);
	// nil discards them.
	Output io.Writer
	// ReadyTimeout bounds the wait for moto to answer; default 30s.
	ReadyTimeout time.Duration
}

// Server is a running (or connected) moto server.
type Server struct {
	url    string
	client *http.Client
	proxy  *http.Server

	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	waitErr  error
	closeOne sync.Once
}

// Start runs moto_server and waits until it answers. The server lives until
// Close (or until this process dies, on Linux). ctx bounds only the start.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := exec.LookPath(Binary)
	if err != nil {
		return nil, errors.New(InstallHint)
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	quiet := opts.Output == nil
	if opts.Output == nil {
		opts.Output = io.Discard
	}
	// moto itself listens on a private port behind a proxy on opts.Port
	// (see serializer). Claim the public port first so a busy one fails
	// fast.
	l, err := net.Listen("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
	if err != nil {
		return nil, fmt.Errorf("moto: %w", err)
	}
	// A free port found by listening and closing can be taken by someone
	// else before moto binds it; try again with another one in that case.
	var lastErr error
	for range 3 {
		port, err := freePort(opts.Host)
		if err != nil {
			l.Close()
			return nil, err
		}
		s, err := start(ctx, bin, opts, port, quiet)
		if err == nil {
			s.serve(l)
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	l.Close()
	return nil, lastErr
}

// serve puts the serializing proxy in front of moto on l.
func (s *Server) serve(l net.Listener) {
	target, _ := url.Parse(s.url)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	s.proxy = &http.Server{Handler: &serializer{next: rp}, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + l.Addr().String()
	go func() { _ = s.proxy.Serve(l) }()
}

// serializer makes moto's DynamoDB linearizable, as DynamoDB is: moto runs
// requests on concurrent threads without isolation, so two conditional
// writes (or transactions) racing on one item can both pass their
// condition, and TransactWriteItems deep-copies tables other threads are
// writing. DynamoDB requests therefore go through one at a time; every
// other service (SQS long polls included) stays concurrent.
type serializer struct {
	mu   sync.Mutex
	next http.Handler
}

func (p *serializer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") {
		p.mu.Lock()
		defer p.mu.Unlock()
	}
	p.next.ServeHTTP(w, r)
}

// launcher runs moto_server's main with two changes that make moto cost
// what DynamoDB would, without changing what it answers:
//
//   - the list of moto's service modules, which moto reads from disk (a
//     listdir and a stat per module) under a global lock on every request
//     to find its backend, is read once (800 concurrent PutItems: 2.9 s →
//     2.1 s here);
//   - without an Output, moto's request log (a line per request, through
//     colorama, about a third of its time under load) is not written;
//   - TransactWriteItems saves, for its rollback, the items it writes
//     instead of a deep copy of every table it touches, which made each
//     transaction as slow as its table was large (113 ms at 2,000 items,
//     318 ms at 6,000; now about 5 ms whatever the size). A failed
//     transaction still leaves every item as it was;
//   - a Query of the table (not of an index) reads its partition, instead
//     of sorting every item of the table to pick the partition's out, so
//     a Query costs what its partition holds, not what the table does
//     (after the 2,500-member audience test, the hour of recurrences went
//     from 116 s to about 15 s).
const launcher = `import copy, logging, os, sys, threading
if os.environ.get("HERALD_MOTO_QUIET"):
    logging.getLogger("werkzeug").disabled = True
import moto.backends as backends
modules = frozenset(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: modules

from moto.dynamodb import models as ddb
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

class _TablesNotCopied:
    def __getattr__(self, name):
        return getattr(copy, name)
    def deepcopy(self, x, memo=None):
        return x if isinstance(x, Table) else copy.deepcopy(x, memo)

ddb.copy = _TablesNotCopied()
_transact = ddb.DynamoDBBackend.transact_write_items

def transact_write_items(self, transact_items):
    saved = []
    for item in transact_items:
        _, op = next(iter(item.items()))
        table = self.tables.get(op.get("TableName"))
        attrs = op.get("Item") or op.get("Key") or {}
        if table is None or table.hash_key_attr not in attrs:
            continue
        hk = DynamoType(attrs[table.hash_key_attr])
        rk = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr and table.range_key_attr in attrs else None
        saved.append((table, hk, rk, copy.deepcopy(table.get_item(hk, rk) if (rk is not None or not table.range_key_attr) else None)))
    try:
        return _transact(self, transact_items)
    except Exception:
        for table, hk, rk, old in reversed(saved):
            if rk is not None:
                if old is None:
                    table.items.get(hk, {}).pop(rk, None)
                else:
                    table.items[hk][rk] = old
            elif old is None:
                table.items.pop(hk, None)
            else:
                table.items[hk] = old
        raise

ddb.DynamoDBBackend.transact_write_items = transact_write_items

_partition = threading.local()
_all_items = Table.all_items
_query = Table.query

def all_items(self):
    scope = getattr(_partition, "scope", None)
    if scope is not None and scope[0] is self:
        return list(scope[1].values())
    return _all_items(self)

def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
          projection_expressions, index_name=None, *args, **kwargs):
    if not index_name and hash_key is not None and self.range_key_attr:
        _partition.scope = (self, self.items.get(hash_key, {}))
    try:
        return _query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                      projection_expressions, index_name, *args, **kwargs)
    finally:
        _partition.scope = None

Table.all_items = all_items
Table.query = query

from moto.server import main
sys.argv[0] = "moto_server"
main()
`

var (
	pythonOnce sync.Once
	python     string // an interpreter that imports moto, or ""
)

// motoPython finds the Python that has moto (the one moto_server runs
// with, on a normal install), once per process.
func motoPython() string {
	pythonOnce.Do(func() {
		for _, name := range []string{"python3", "python"} {
			p, err := exec.LookPath(name)
			if err != nil {
				continue
			}
			if exec.Command(p, "-c", "import moto.backends, moto.server").Run() == nil {
				python = p
				return
			}
		}
	})
	return python
}

func start(ctx context.Context, bin string, opts Options, port int, quiet bool) (*Server, error) {
	out := &headWriter{max: 16 << 10} // for the error message if moto dies at start
	cmd := exec.Command(bin, "-H", opts.Host, "-p", strconv.Itoa(port))
	if py := motoPython(); py != "" {
		cmd = exec.Command(py, "-c", launcher, "-H", opts.Host, "-p", strconv.Itoa(port))
	}
	w := &syncWriter{w: io.MultiWriter(opts.Output, out)}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = sysProcAttr()
	// Keep Python from buffering moto's request log.
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	if quiet {
		// Nobody reads the request log: don't make moto write it.
		cmd.Env = append(cmd.Env, "HERALD_MOTO_QUIET=1")
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", Binary, err)
	}
	s := &Server{
		url:    "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(port)),
		client: &http.Client{Timeout: clientTimeout},
		cmd:    cmd,
		exited: make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, opts.ReadyTimeout); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("%w; moto output:\n%s", err, strings.TrimSpace(out.String()))
	}
	return s, nil
}

// Connect returns a Server for a moto already listening at url (for
// example "http://127.0.0.1:5000"). Close does not stop it.
func Connect(url string) *Server {
	return &Server{url: strings.TrimRight(url, "/"), client: &http.Client{Timeout: clientTimeout}}
}

// clientTimeout bounds one call to moto's own API: a dump of everything
// it holds (data.json) after a soak of thousands of recipients takes
// tens of seconds on a loaded machine.
const clientTimeout = 2 * time.Minute

// Ping reports whether moto answers at the server's URL.
func (s *Server) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/moto-api/", nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto at %s: GET /moto-api/: %s", s.url, resp.Status)
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err := s.Ping(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited before it was ready: %v", Binary, s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s after %s: %v", Binary, s.url, timeout, err)
		case <-tick.C:
		}
	}
}

// URL is moto's base URL, the endpoint every SDK client is pointed at.
func (s *Server) URL() string { return s.url }

// Close stops a server started by Start (SIGTERM to its process group, then
// SIGKILL after two seconds) and waits for it. It is a no-op for a Connected
// server and safe to call more than once.
func (s *Server) Close() error {
	if s == nil || s.cmd == nil {
		return nil
	}
	s.closeOne.Do(func() {
		if s.proxy != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = s.proxy.Shutdown(ctx)
			cancel()
		}
		select {
		case <-s.exited:
			return
		default:
		}
		_ = terminate(s.cmd.Process)
		select {
		case <-s.exited:
		case <-time.After(2 * time.Second):
			_ = kill(s.cmd.Process)
			<-s.exited
		}
	})
	return nil
}

// Reset clears every resource and record in moto (POST /moto-api/reset).
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("moto reset: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: %s", resp.Status)
	}
	return nil
}

// Data is moto's /moto-api/data.json: service name ("ses", "sns", "sqs",
// ...) to model name ("Message", "SMS", ...) to the model's records.
type Data map[string]map[string][]json.RawMessage

// Data fetches and parses GET /moto-api/data.json.
func (s *Server) Data(ctx context.Context) (Data, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/moto-api/data.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("moto data: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("moto data: %s", resp.Status)
	}
	var d Data
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return nil, fmt.Errorf("moto data: decode: %w", err)
	}
	return d, nil
}

// Records decodes every record of one service model into out, a pointer to
// a slice. A model moto has not created yet decodes as an empty slice.
func (d Data) Records(service, model string, out any) error {
	raw := d[service][model]
	if raw == nil {
		raw = []json.RawMessage{}
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("moto data %s.%s: %w", service, model, err)
	}
	return nil
}

// Email is an email sent with Simple content (sesv2 SendEmail), as moto
// records it: one body (the HTML part if there was one, else the text) and
// no custom headers.
type Email struct {
	ID           string            `json:"id"`
	Source       string            `json:"source"`
	Destinations EmailDestinations `json:"destinations"`
	Subject      string            `json:"subject"`
	Body         string            `json:"body"`
}

// EmailDestinations are the recipients of an Email.
type EmailDestinations struct {
	To  []string `json:"ToAddresses"`
	Cc  []string `json:"CcAddresses"`
	Bcc []string `json:"BccAddresses"`
}

// RawEmail is an email sent with Raw content, kept whole by moto.
type RawEmail struct {
	ID           string   `json:"id"`
	Source       string   `json:"source"`
	Destinations []string `json:"destinations"`
	RawData      string   `json:"raw_data"`
}

// SMS is a text message published through SNS.
type SMS struct {
	MessageID   string `json:"message_id"`
	PhoneNumber string `json:"phone_number"`
	Message     string `json:"message"`
}

// SentEmails returns the Simple-content emails moto recorded (ses.Message),
// oldest first.
func (s *Server) SentEmails(ctx context.Context) ([]Email, error) {
	var out []Email
	return out, s.records(ctx, "ses", "Message", &out)
}

// SentRawEmails returns the Raw-content emails moto recorded
// (ses.RawMessage), oldest first.
func (s *Server) SentRawEmails(ctx context.Context) ([]RawEmail, error) {
	var out []RawEmail
	return out, s.records(ctx, "ses", "RawMessage", &out)
}

// SentSMS returns the SMS moto recorded (sns.SMS), oldest first.
func (s *Server) SentSMS(ctx context.Context) ([]SMS, error) {
	var out []SMS
	return out, s.records(ctx, "sns", "SMS", &out)
}

func (s *Server) records(ctx context.Context, service, model string, out any) error {
	d, err := s.Data(ctx)
	if err != nil {
		return err
	}
	return d.Records(service, model, out)
}

// AWSConfig returns an SDK configuration pointed at this server, with
// static test credentials and Region. It reads nothing from the
// environment or ~/.aws, so a developer's real profile can never be used.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		BaseEndpoint: aws.String(s.url),
	}
}

// EnvMap returns the environment variables that point an SDK-based process
// (config.LoadDefaultConfig honours AWS_ENDPOINT_URL) at this server.
func (s *Server) EnvMap() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      s.url,
		"AWS_REGION":            Region,
		"AWS_DEFAULT_REGION":    Region,
		"AWS_ACCESS_KEY_ID":     AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": SecretAccessKey,
		"AWS_SESSION_TOKEN":     "",
		"AWS_PROFILE":           "",
	}
}

// Env returns EnvMap as KEY=value pairs for exec.Cmd.Env; later entries
// win, so append it after os.Environ().
func (s *Server) Env() []string {
	m := s.EnvMap()
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// Setenv sets EnvMap in this process (for code that calls
// config.LoadDefaultConfig itself). Tests should prefer t.Setenv.
func (s *Server) Setenv() error {
	for k, v := range s.EnvMap() {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// headWriter keeps the first max bytes written to it and drops the rest.
type headWriter struct {
	buf bytes.Buffer
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (w *headWriter) String() string { return w.buf.String() }

// syncWriter serialises writes from moto's stdout and stderr copiers.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
