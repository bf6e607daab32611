//go:build unix

package main

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// awsMeter is a reverse proxy in front of moto that times how long the
// calls through it keep a caller waiting: the union of the intervals in
// which at least one call is in flight (concurrent calls are counted
// once), from a request's arrival to its answer's end.
type awsMeter struct {
	url string
	srv *http.Server

	mu       sync.Mutex
	inFlight int
	since    time.Time // when inFlight last went from 0 to 1
	busy     time.Duration
	calls    int
	now      func() time.Time
}

// startAWSMeter serves a meter in front of target on a loopback port.
func startAWSMeter(target string) (*awsMeter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &awsMeter{url: "http://" + ln.Addr().String()}
	m.srv = &http.Server{Handler: m.wrap(httputil.NewSingleHostReverseProxy(u)), ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

func (m *awsMeter) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
}

// wrap counts each request h serves as waited on.
func (m *awsMeter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.begin()
		defer m.end()
		h.ServeHTTP(w, r)
	})
}

func (m *awsMeter) begin() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inFlight == 0 {
		m.since = m.clock()
	}
	m.inFlight++
	m.calls++
}

func (m *awsMeter) end() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
	if m.inFlight == 0 {
		m.busy += m.clock().Sub(m.since)
	}
}

// reset starts a new count (between invokes, with no call in flight).
func (m *awsMeter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.busy, m.calls = 0, 0
	if m.inFlight > 0 {
		m.since = m.clock()
	}
}

// read returns the time waited and the calls made since reset.
func (m *awsMeter) read() (time.Duration, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	busy := m.busy
	if m.inFlight > 0 {
		busy += m.clock().Sub(m.since)
	}
	return busy, m.calls
}

func (m *awsMeter) close() { _ = m.srv.Close() }
