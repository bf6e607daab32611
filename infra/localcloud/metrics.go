package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
)

// FunctionName is the Function dimension of a function's metrics: its
// logical id without "Function", lower case ("DispatchFunction" →
// "dispatch"), the name its main gives app.Main.
func FunctionName(id string) string { return strings.ToLower(strings.TrimSuffix(id, "Function")) }

// logWriter puts each EMF line written to it into a log, as the member
// emf of a "metrics" line, so that whatever reads the cloud's log (the
// PII scan) reads the metrics too.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	for line := range bytes.SplitSeq(bytes.TrimSpace(p), []byte("\n")) {
		if len(line) > 0 {
			w.log.LogAttrs(context.Background(), slog.LevelInfo, "metrics", slog.Any("emf", json.RawMessage(bytes.Clone(line))))
		}
	}
	return len(p), nil
}
