package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/backoff"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/logsafe"
	"github.com/heraldhq/herald/internal/metrics"
)

// UserAgent is the User-Agent of every delivery.
const UserAgent = "Herald-Webhook/1"

// AttemptTimeout bounds one delivery attempt, and maxResponse the part
// of the endpoint's answer that is read (and discarded).
const (
	AttemptTimeout = 10 * time.Second
	maxResponse    = 64 << 10
	// lease is how long a claimed attempt keeps copies of its message
	// away: longer than an attempt.
	lease = AttemptTimeout + 5*time.Second
)

// Timing is the retry schedule: waits from First doubling up to Max,
// with jitter, for Window after the first attempt (or the last redrive).
type Timing struct {
	First, Max, Window time.Duration
}

// DefaultTiming retries from 30 s, doubling to 1 h, for 24 h.
var DefaultTiming = Timing{First: 30 * time.Second, Max: time.Hour, Window: 24 * time.Hour}

func (t Timing) orDefault() Timing {
	if t.First <= 0 {
		t.First = DefaultTiming.First
	}
	if t.Max <= 0 {
		t.Max = DefaultTiming.Max
	}
	if t.Window <= 0 {
		t.Window = DefaultTiming.Window
	}
	return t
}

// Backoff is the wait after the n-th failed attempt (n ≥ 1), before
// jitter.
func (t Timing) Backoff(n int) time.Duration {
	t = t.orDefault()
	return backoff.Exponential(t.First, t.Max, n)
}

// RetryError asks for the message to come back after After.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return "webhook: retry later: " + e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// LogCode names the error for logs.
func (e *RetryError) LogCode() string { return "retry later: " + logsafe.Describe(e.Err) }

// Deliverer is the Webhook function: it POSTs each queued message to its
// tenant's endpoint, once.
type Deliverer struct {
	Store Store
	// DeadLetters receives the messages whose retry window ended (the
	// webhook dead-letter queue); nil only records them failed.
	DeadLetters Queue
	// Client makes the requests; nil is NewClient with the guard below.
	Client *http.Client
	// Resolver and AllowLoopbackHTTP make the guard every connection
	// passes (see Guard).
	Resolver          Resolver
	AllowLoopbackHTTP bool
	Timing            Timing
	Now               func() time.Time
	Log               *slog.Logger
	// Metrics, when set, counts every delivery decided (WebhookDeliveries,
	// by result and, for a failed attempt, its error class).
	Metrics Metrics

	clientOnce sync.Once
	httpClient *http.Client
}

// Metrics records the operators' metrics (*metrics.Recorder).
type Metrics interface {
	Add(m metrics.Metric, v float64, d metrics.Dims)
}

// count records one delivery's result.
func (d *Deliverer) count(m Message, s DeliveryStatus, class string) {
	if d.Metrics != nil {
		d.Metrics.Add(metrics.WebhookDeliveries, 1, metrics.Dims{Channel: string(m.Channel), Result: string(s), Code: class})
	}
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Deliverer) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

// NewClient returns the HTTP client deliveries use: it connects only to
// addresses the guard allows (checked for the address dialed, after DNS),
// ignores proxy settings, never follows a redirect and gives up after
// AttemptTimeout.
func NewClient(g *Guard) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           g.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: AttemptTimeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       60 * time.Second,
		},
		Timeout:       AttemptTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// client is Client, or the guarded client built once (Deliver runs
// concurrently for a batch).
func (d *Deliverer) client() *http.Client {
	d.clientOnce.Do(func() {
		d.httpClient = d.Client
		if d.httpClient == nil {
			d.httpClient = NewClient(&Guard{Resolver: d.Resolver, AllowLoopbackHTTP: d.AllowLoopbackHTTP})
		}
	})
	return d.httpClient
}

// Deliver delivers one message. It returns nil when the message is done
// with: delivered (now or before), skipped (no webhook for its channel any
// more) or failed for good (recorded, and moved to DeadLetters); a
// *RetryError when it must come back later; any other error when the
// store failed (the caller retries with its own backoff).
func (d *Deliverer) Deliver(ctx context.Context, m Message) error {
	m = m.complete()
	msg, err := EncodeMessage(m)
	if err != nil {
		return err
	}
	body, err := json.Marshal(m.Payload)
	if err != nil {
		return fmt.Errorf("webhook payload %s: %w", m.ID, err)
	}
	now := d.now()
	rec, claimed, err := d.Store.ClaimDelivery(ctx, m.Tenant, Delivery{EventID: m.ID, Channel: m.Channel, EventTimestamp: m.At.UTC(),
		Status: Pending, CreatedAt: now, WindowStart: now, Message: msg, ExpiresAt: now.Add(DeliveryTTL)}, now, now.Add(lease))
	if err != nil {
		return fmt.Errorf("claim webhook delivery %s: %w", m.ID, err)
	}
	if !claimed {
		if rec.Status.final() {
			return nil
		}
		return &RetryError{After: max(rec.LeaseUntil.Sub(now), time.Second), Err: logsafe.Text("an attempt is in flight")}
	}
	log := d.log().With("eventId", m.ID, "org", m.Tenant.Org, "sandbox", m.Tenant.Sandbox)
	cfg, err := d.Store.GetWebhook(ctx, m.Tenant)
	if err != nil && !derrors.Is(err, derrors.NotFound) {
		return fmt.Errorf("read webhook: %w", err)
	}
	if err != nil || !cfg.Subscribed(m.Channel) {
		rec.Status, rec.LeaseUntil = Skipped, time.Time{}
		log.InfoContext(ctx, "webhook event skipped: no webhook for its channel")
		d.count(m, Skipped, "")
		return d.save(ctx, m, rec)
	}

	code, class := d.attempt(ctx, cfg, m.ID, body)
	at := d.now()
	rec.Attempts++
	rec.LastAttemptAt, rec.LastStatusCode, rec.LastError, rec.LeaseUntil = &at, code, class, time.Time{}
	if class == "" {
		rec.Status, rec.DeliveredAt = Delivered, &at
		log.InfoContext(ctx, "webhook event delivered", "statusCode", code, "attempts", rec.Attempts)
		d.count(m, Delivered, "")
		return d.save(ctx, m, rec)
	}
	t := d.Timing.orDefault()
	deadline := rec.WindowStart.Add(t.Window)
	if !at.Before(deadline) {
		// Dead-lettered before it is recorded failed: a failed record
		// is final, so a message retried after a failed move would
		// never be moved.
		if d.DeadLetters != nil {
			if err := d.DeadLetters.Enqueue(ctx, []Message{m}); err != nil {
				return fmt.Errorf("dead-letter webhook message %s: %w", m.ID, err)
			}
		}
		rec.Status = Failed
		log.WarnContext(ctx, "webhook event failed for good", "statusCode", code, "errorClass", class, "attempts", rec.Attempts)
		d.count(m, Failed, class)
		return d.save(ctx, m, rec)
	}
	rec.Status = Retrying
	if err := d.save(ctx, m, rec); err != nil {
		return err
	}
	d.count(m, Retrying, class)
	after := min(backoff.Jitter(t.Backoff(rec.Attempts)), deadline.Sub(at))
	log.InfoContext(ctx, "webhook attempt failed; will retry", "statusCode", code, "errorClass", class, "attempts", rec.Attempts,
		"afterSeconds", int(after.Seconds()))
	return &RetryError{After: max(after, time.Second), Err: logsafe.Text("attempt failed: " + class)}
}

func (d *Deliverer) save(ctx context.Context, m Message, rec Delivery) error {
	if err := d.Store.SaveDelivery(context.WithoutCancel(ctx), m.Tenant, rec); err != nil {
		return fmt.Errorf("record webhook delivery %s: %w", m.ID, err)
	}
	return nil
}

// Error classes of a failed attempt, as delivery records and logs name
// them: never the endpoint's answer, nor its address.
const (
	ClassRefusedAddress = "refused_address"
	ClassTimeout        = "timeout"
	ClassConnection     = "connection_failed"
	ClassRedirect       = "redirect_not_followed"
	ClassHTTPStatus     = "http_status"
	ClassRequest        = "request_failed"
)

// attempt POSTs body and returns the answer's status code (0 without one)
// and the error class of a failure ("" for a 2xx).
func (d *Deliverer) attempt(ctx context.Context, cfg Config, eventID string, body []byte) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, ClassRequest
	}
	for k, v := range cfg.Headers {
		req.Header.Set(k, v)
	}
	ts := d.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEventID, eventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(cfg.Secret, ts, body))
	resp, err := d.client().Do(req)
	if err != nil {
		return 0, classify(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, ""
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, ClassRedirect
	}
	return resp.StatusCode, ClassHTTPStatus
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRefusedAddress):
		return ClassRefusedAddress
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ClassTimeout
	case errors.As(err, new(*net.OpError)):
		return ClassConnection
	}
	return ClassRequest
}

// Sign returns the X-Herald-Signature of body sent at Unix time ts:
// "v1=" and the hex HMAC-SHA256, keyed by the secret, of "<ts>.<body>".
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery as a receiver would: the signature matches
// the timestamp and body, and the timestamp is within tolerance of now
// (a replay of an old delivery is refused).
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: bad timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature)) {
		return errors.New("webhook: signature mismatch")
	}
	return nil
}
