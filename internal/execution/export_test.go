package execution

import "encoding/json"

// BodyHash exposes the idempotency hash of a unitary request to the
// external tests.
var BodyHash = UnitaryRequest.bodyHash

// HashTypes are the shapes bodyHash encodes, for the tests that hold them
// to UnitaryRequest's and Recipient's fields and canonical to their
// json.Marshal.
type HashRequest = hashRequest
type HashRecipient = hashRecipient

// Canonical exposes the bytes bodyHash hashes.
func Canonical(r UnitaryRequest) []byte { return r.canonical() }

// hashRequest and hashRecipient are UnitaryRequest and Recipient as
// bodyHash encodes them (canonical writes their json.Marshal):
// every field, profile and context in their canonical form.
// TestBodyHashCoversEveryField holds them to the same fields.
type hashRequest struct {
	RequestID  string          `json:"requestId"`
	CampaignID string          `json:"campaignId"`
	Recipients []hashRecipient `json:"recipients"`
}

type hashRecipient struct {
	Type              string          `json:"type"`
	UserID            string          `json:"userId"`
	Namespace         string          `json:"namespace"`
	MergePolicyName   string          `json:"mergePolicyName,omitempty"`
	MergePolicySchema string          `json:"mergePolicySchema,omitempty"`
	ChannelData       *ChannelData    `json:"channelData,omitempty"`
	Profile           json.RawMessage `json:"profile,omitempty"`
	Context           json.RawMessage `json:"context,omitempty"`
}

// AudienceBodyHash exposes the idempotency hash of an audience request.
var AudienceBodyHash = AudienceRequest.bodyHash

// AudienceHashRequest is the shape AudienceRequest.bodyHash encodes.
type AudienceHashRequest = audienceHashRequest
