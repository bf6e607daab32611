package memory

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
)

// Queue records enqueued jobs.
type Queue struct {
	mu   sync.Mutex
	jobs []delivery.Job
	// Err, when set, is returned by Enqueue (and nothing is recorded).
	Err error
}

// Enqueue implements execution.Queue. Like the SQS queue, it refuses a
// job whose encoding is over delivery.MaxJobSize or whose delay is over
// delivery.MaxDelay (recording nothing).
func (q *Queue) Enqueue(_ context.Context, jobs []delivery.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Err != nil {
		return q.Err
	}
	for i, j := range jobs {
		b, err := delivery.EncodeJob(j)
		if err != nil {
			return fmt.Errorf("job %d: %w", i, err)
		}
		if len(b) > delivery.MaxJobSize {
			return fmt.Errorf("job %d is %d bytes, over the queue's limit of %d", i, len(b), delivery.MaxJobSize)
		}
		if j.Delay < 0 || j.Delay > delivery.MaxDelay {
			return fmt.Errorf("job %d: delay %s is outside the queue's 0-15 minutes", i, j.Delay)
		}
	}
	q.jobs = append(q.jobs, jobs...)
	return nil
}

// Jobs returns the enqueued jobs.
func (q *Queue) Jobs() []delivery.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]delivery.Job(nil), q.jobs...)
}

// Recipients counts the recipients of every job enqueued, which a
// unitary execution packs into as few jobs as fit.
func (q *Queue) Recipients() int {
	n := 0
	for _, j := range q.Jobs() {
		n += len(j.Recipients)
	}
	return n
}

// Delays returns the delays of the enqueued jobs, in order.
func (q *Queue) Delays() []time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]time.Duration, len(q.jobs))
	for i, j := range q.jobs {
		out[i] = j.Delay
	}
	return out
}

// Reset forgets the enqueued jobs.
func (q *Queue) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = q.jobs[:0]
}

// Mailer records sent email.
type Mailer struct {
	mu   sync.Mutex
	sent []delivery.Email
	// Fail, when set, decides the error for each email (nil sends).
	Fail func(delivery.Email) error
}

// SendEmail implements delivery.Mailer.
func (m *Mailer) SendEmail(_ context.Context, e delivery.Email) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		if err := m.Fail(e); err != nil {
			return "", err
		}
	}
	m.sent = append(m.sent, e)
	return fmt.Sprintf("msg-%d", len(m.sent)), nil
}

// Sent returns the sent email.
func (m *Mailer) Sent() []delivery.Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]delivery.Email(nil), m.sent...)
}

// SMSSender records text messages and answers opt-out checks.
type SMSSender struct {
	mu   sync.Mutex
	sent []delivery.SMS
	// OptedOutNumbers are numbers that opted out.
	OptedOutNumbers map[string]bool
	checks          int
	// Fail, when set, decides the error for each message (nil sends).
	Fail func(delivery.SMS) error
}

var _ delivery.SMSSender = (*SMSSender)(nil)

// SendSMS implements delivery.SMSSender.
func (m *SMSSender) SendSMS(_ context.Context, s delivery.SMS) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		if err := m.Fail(s); err != nil {
			return "", err
		}
	}
	m.sent = append(m.sent, s)
	return fmt.Sprintf("sms-%d", len(m.sent)), nil
}

// OptedOut implements delivery.SMSSender.
func (m *SMSSender) OptedOut(_ context.Context, phone string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checks++
	return m.OptedOutNumbers[phone], nil
}

// Sent returns the sent messages.
func (m *SMSSender) Sent() []delivery.SMS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]delivery.SMS(nil), m.sent...)
}

// Checks returns how many opt-out checks were made.
func (m *SMSSender) Checks() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checks
}

// Push is one notification a Pusher published.
type Push struct {
	EndpointARN string
	Message     string
}

// Pusher keeps platform endpoints in memory and records publishes.
type Pusher struct {
	mu        sync.Mutex
	endpoints map[string]string // "appARN token" → endpoint ARN
	disabled  map[string]bool   // endpoint ARNs
	invalid   map[string]bool   // tokens the platform refuses
	sent      []Push
	calls     int
}

var _ delivery.Pusher = (*Pusher)(nil)

func (p *Pusher) init() {
	if p.endpoints == nil {
		p.endpoints, p.disabled, p.invalid = map[string]string{}, map[string]bool{}, map[string]bool{}
	}
}

// Disable marks the endpoint of token in appARN disabled (as SNS does
// when APNs or FCM reports the token dead).
func (p *Pusher) Disable(appARN, token string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	ep := p.endpoint(appARN, token)
	p.disabled[ep] = true
	return ep
}

// Refuse makes the platform refuse token at endpoint creation.
func (p *Pusher) Refuse(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	p.invalid[token] = true
}

// endpoint returns the endpoint of token in appARN, named as SNS names
// it: app/<PLATFORM>/<name> becomes endpoint/<PLATFORM>/<name>/<id>.
func (p *Pusher) endpoint(appARN, token string) string {
	key := appARN + " " + token
	if ep, ok := p.endpoints[key]; ok {
		return ep
	}
	ep := fmt.Sprintf("%s/%d", strings.Replace(appARN, ":app/", ":endpoint/", 1), len(p.endpoints)+1)
	p.endpoints[key] = ep
	return ep
}

// Endpoint implements delivery.Pusher.
func (p *Pusher) Endpoint(_ context.Context, appARN, token string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	p.calls++
	if p.invalid[token] {
		return "", fmt.Errorf("create endpoint: %w", delivery.ErrInvalidToken)
	}
	return p.endpoint(appARN, token), nil
}

// Push implements delivery.Pusher.
func (p *Pusher) Push(_ context.Context, endpointARN, message string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	p.calls++
	if p.disabled[endpointARN] {
		return "", fmt.Errorf("publish: %w", delivery.ErrInvalidToken)
	}
	p.sent = append(p.sent, Push{EndpointARN: endpointARN, Message: message})
	return fmt.Sprintf("push-%d", len(p.sent)), nil
}

// Sent returns the published notifications.
func (p *Pusher) Sent() []Push {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Push(nil), p.sent...)
}

// Calls returns how many provider calls were made.
func (p *Pusher) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}
