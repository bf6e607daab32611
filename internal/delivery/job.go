package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// MaxJobSize is the largest encoded job the dispatch queue takes: SQS's
// 256 KiB message limit less a margin for the SendMessageBatch envelope.
// The execution service checks every job against it before it stores
// anything, so a call whose jobs could never be queued is refused whole.
const MaxJobSize = 250 << 10

// MaxDelay is the longest a job can be held back on the queue (SQS's
// longest DelaySeconds).
const MaxDelay = 15 * time.Minute

// EncodeJob returns a job's queue message body: compact JSON, numbers as
// they came, with '<', '>', '&', U+2028 and U+2029 written as themselves.
//
// encoding/json escapes U+2028 and U+2029 as \u2028 and \u2029 whatever
// SetEscapeHTML says (it guards JSONP, which evaluates JSON as JavaScript),
// so each 3-byte character becomes 6 bytes and a request whose profile
// override is all U+2028 would encode to twice its size. Written raw they
// are valid JSON and valid SQS message characters, and a job is then never
// larger than the request it came from plus its envelope (ids, tenant).
func EncodeJob(j Job) ([]byte, error) {
	var out []byte
	err := encodeJob(j, func(body []byte) { out = bytes.Clone(body) })
	return out, err
}

// EncodedJobSize is len(EncodeJob(j)) without a copy of the body: the
// size checks of a call's jobs (package execution) encode each recipient
// and keep nothing.
func EncodedJobSize(j Job) (int, error) {
	n := 0
	err := encodeJob(j, func(body []byte) { n = len(body) })
	return n, err
}

// encodeJob encodes j (appendJob) into a pooled buffer and passes use the
// body, valid only during the call.
func encodeJob(j Job, use func(body []byte)) error {
	buf := jobBuffers.Get().(*[]byte)
	body, err := appendJob((*buf)[:0], j)
	if err == nil {
		use(body)
		*buf = body
	}
	if cap(*buf) <= maxPooledJob {
		jobBuffers.Put(buf)
	}
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	return nil
}

// jobBuffers are encodeJob's buffers: a job's encoding then costs one
// allocation, EncodeJob's copy.
var jobBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledJob keeps one large job from pinning memory in the pool.
const maxPooledJob = 64 << 10

// DecodeJob parses a message body into a job, keeping numbers exact.
func DecodeJob(body []byte) (Job, error) {
	var j Job
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return j, fmt.Errorf("decode job: %w", err)
	}
	return j, nil
}

// unescapeSeparators turns encoding/json's \u2028 and \u2029 escapes back
// into the characters. In its output a backslash only starts an escape, so
// skipping every escaped character (an escaped backslash included) finds
// exactly the escapes.
func unescapeSeparators(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u202`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if s := b[i:]; len(s) >= 6 && string(s[:5]) == `\u202` && (s[5] == '8' || s[5] == '9') {
			sep := "\u2028"
			if s[5] == '9' {
				sep = "\u2029"
			}
			out = append(out, sep...)
			i += 5
			continue
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
}
