package delivery

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/tenant"
)

// TagName is the email tag carrying the ledger entry's opaque tag, so an
// SES event can find the entry even when the message id was lost.
const TagName = "heraldRecipient"

// Tag is the opaque, stable name of a ledger entry: a digest of the
// tenant and the key, in the characters SES allows in a tag value. It is
// how counters and provider events refer to an entry without its address.
func Tag(t tenant.Tenant, k Key) string {
	var buf [256]byte // the hashed text is built on the stack when it fits
	b := append(buf[:0], t.Org...)
	b = append(append(b, '#'), t.Sandbox...) // t.Key()
	for _, s := range [...]string{k.ExecutionID, k.Namespace, k.UserID, string(k.Channel), k.Device} {
		b = append(append(b, 0), s...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// AddressDigest names an address in the ledger without storing it.
func AddressDigest(ch campaign.Channel, addr string) string {
	var buf [128]byte
	b := append(append(append(buf[:0], ch...), 0), addr...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// DeviceKey names a device in the ledger without storing its token.
func DeviceKey(appID, token string) string {
	sum := sha256.Sum256([]byte(appID + "\x00" + token))
	return hex.EncodeToString(sum[:8])
}
