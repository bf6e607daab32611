package execution

// BodyHash exposes the idempotency hash of a unitary request to the
// external tests.
var BodyHash = UnitaryRequest.bodyHash

// HashTypes are the shapes bodyHash encodes, for the test that holds them
// to UnitaryRequest's and Recipient's fields.
type HashRequest = hashRequest
type HashRecipient = hashRecipient

// AudienceBodyHash exposes the idempotency hash of an audience request.
var AudienceBodyHash = AudienceRequest.bodyHash

// AudienceHashRequest is the shape AudienceRequest.bodyHash encodes.
type AudienceHashRequest = audienceHashRequest
