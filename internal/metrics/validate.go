package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Validate reports whether line is an EMF document CloudWatch Logs turns
// into metrics (the embedded metric format specification): a top-level
// object whose _aws member has a Timestamp and CloudWatchMetrics
// directives, each naming a namespace, dimension sets (at most 30 names
// each, every one a string member of the line) and metrics (at most 100,
// every one a number member or an array of at most 100 numbers).
func Validate(line []byte) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(line, &doc); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	raw, ok := doc["_aws"]
	if !ok {
		return errors.New("no _aws member")
	}
	var meta struct {
		Timestamp         *int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return fmt.Errorf("_aws: %w", err)
	}
	if meta.Timestamp == nil || *meta.Timestamp <= 0 {
		return errors.New("_aws.Timestamp missing")
	}
	if len(meta.CloudWatchMetrics) == 0 {
		return errors.New("_aws.CloudWatchMetrics empty")
	}
	for _, d := range meta.CloudWatchMetrics {
		if d.Namespace == "" {
			return errors.New("a directive without a Namespace")
		}
		if d.Dimensions == nil {
			return errors.New("a directive without Dimensions")
		}
		for _, set := range d.Dimensions {
			if len(set) > 30 {
				return errors.New("a dimension set of more than 30")
			}
			for _, n := range set {
				var s string
				if err := json.Unmarshal(doc[n], &s); err != nil {
					return fmt.Errorf("dimension %s is not a string member", n)
				}
			}
		}
		if len(d.Metrics) == 0 || len(d.Metrics) > 100 {
			return fmt.Errorf("%d metrics in a directive", len(d.Metrics))
		}
		for _, m := range d.Metrics {
			v, ok := doc[m.Name]
			if !ok || m.Name == "" {
				return fmt.Errorf("metric %q has no member", m.Name)
			}
			var f float64
			var fs []float64
			if json.Unmarshal(v, &f) != nil && (json.Unmarshal(v, &fs) != nil || len(fs) == 0 || len(fs) > 100) {
				return fmt.Errorf("metric %s is not a number or an array of at most 100", m.Name)
			}
		}
	}
	return nil
}
