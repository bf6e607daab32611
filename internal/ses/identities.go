package ses

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/heraldhq/herald/internal/campaign"
)

// IdentityAPI is the part of the SES v2 client the identity check uses.
type IdentityAPI interface {
	GetEmailIdentity(ctx context.Context, in *sesv2.GetEmailIdentityInput, opts ...func(*sesv2.Options)) (*sesv2.GetEmailIdentityOutput, error)
}

// Identities answers campaign review's sender check from the account's
// SES identities.
type Identities struct {
	api IdentityAPI
}

var _ campaign.Senders = (*Identities)(nil)

// NewIdentities returns the check on api.
func NewIdentities(api IdentityAPI) *Identities { return &Identities{api: api} }

// CanSendAs implements campaign.Senders: the address itself, its domain
// or a parent domain must be an identity verified for sending.
func (i *Identities) CanSendAs(ctx context.Context, address string) (bool, error) {
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return false, nil
	}
	candidates := []string{address}
	for d := strings.ToLower(address[at+1:]); strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
		candidates = append(candidates, d)
	}
	for _, id := range candidates {
		out, err := i.api.GetEmailIdentity(ctx, &sesv2.GetEmailIdentityInput{EmailIdentity: aws.String(id)})
		var nf *types.NotFoundException
		switch {
		case errors.As(err, &nf):
			continue
		case err != nil:
			return false, err
		case out.VerifiedForSendingStatus || out.VerificationStatus == types.VerificationStatusSuccess:
			return true, nil
		}
	}
	return false, nil
}
