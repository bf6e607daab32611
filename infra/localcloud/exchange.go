package localcloud

import (
	"bytes"
	"io"
	"net/http"
)

// Exchange is one request the gateway answered, as the client sent it and
// as the client received it (after the gateway's own answers, such as API
// Gateway's {"message": …} errors).
type Exchange struct {
	Method string
	// Path is the escaped request path and RawQuery its query string.
	Path, RawQuery string
	RequestHeader  http.Header
	RequestBody    []byte
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
}

// Contract judges the exchanges of an end-to-end suite (the OpenAPI
// contract tests, infra/contract): Start hands it every exchange the
// gateway answers and RunSuite fails the suite when Verdict returns an
// error. Observe is called concurrently.
type Contract interface {
	Observe(Exchange)
	// Verdict summarises what was observed: nil when every exchange kept
	// the contract, else an error listing the violations.
	Verdict() error
}

// observed serves r through next and hands the exchange to c. The request
// body is read first (up to MaxBodyBytes and one byte more, so that the
// gateway still sees a body over its limit) and replayed to next.
func observed(c Contract, next http.Handler, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request", "")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	c.Observe(Exchange{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, RequestHeader: r.Header.Clone(), RequestBody: body,
		Status: rec.status, ResponseHeader: w.Header().Clone(), ResponseBody: rec.body.Bytes()})
}

// recordingWriter keeps a copy of the status and body it writes.
type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}
