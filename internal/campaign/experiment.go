package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/tenant"
)

// Experiment splits a campaign's recipients among up to MaxTreatments
// treatments of its content (AJO's content experiment). Each treatment
// has a share of the recipients (Percent); shares summing to less than
// 100 leave the rest in the holdout, who get nothing and are recorded
// excluded:holdout.
//
// Which treatment a recipient gets is decided by Assign from the campaign
// id and the recipient's identity alone, so the same person gets the
// same treatment in every execution, retry and redelivery of the
// campaign, whichever process decides. Changing the shares moves only the
// recipients whose bucket changes range.
type Experiment struct {
	Treatments []Treatment `json:"treatments"`
}

// Treatment is one arm of an experiment: a name, its share of the
// recipients in percent (two decimals at most), and its content. A
// treatment whose content is empty (no channel block, no variants) is the
// control: it sends the campaign's default content. A treatment with
// content sends that content, with its own locale variants (chosen as
// the default content's are; the default content's variants are not
// inherited).
type Treatment struct {
	Name     string             `json:"name"`
	Percent  float64            `json:"percent"`
	Email    *EmailContent      `json:"email,omitempty"`
	SMS      *SMSContent        `json:"sms,omitempty"`
	Push     *PushContent       `json:"push,omitempty"`
	Variants map[string]Variant `json:"variants,omitempty"`
}

// Control reports whether the treatment sends the default content.
func (t Treatment) Control() bool {
	return t.Email == nil && t.SMS == nil && t.Push == nil && len(t.Variants) == 0
}

// Content returns the content the treatment sends: its own, or def (the
// campaign's default content, without its experiment) for the control.
func (t Treatment) Content(def Content) Content {
	if t.Control() {
		def.Experiment = nil
		return def
	}
	return Content{Email: t.Email, SMS: t.SMS, Push: t.Push, Variants: t.Variants}
}

// Limits and names of experiments.
const (
	// MaxTreatments bounds an experiment's treatments.
	MaxTreatments = 5
	// Buckets is how many buckets recipients are hashed to; a treatment
	// of p percent owns p*100 consecutive buckets.
	Buckets = 10000
	// Holdout names the recipients of an experiment outside every
	// treatment, where a treatment is recorded (ledger, reports); no
	// treatment may be named so.
	Holdout = "holdout"
)

// TreatmentPath is the JSON path of a treatment, under which validation,
// review and rendering name its fields: "content.experiment.treatments.B".
func TreatmentPath(name string) string { return "content.experiment.treatments." + name }

var treatmentName = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$`)

// basisPoints is percent in hundredths, and whether it has at most two
// decimals.
func basisPoints(percent float64) (int, bool) {
	bp := math.Round(percent * 100)
	return int(bp), math.Abs(percent*100-bp) < 1e-6
}

// Treatment returns the treatment named name.
func (x *Experiment) Treatment(name string) (Treatment, bool) {
	if x == nil {
		return Treatment{}, false
	}
	i := slices.IndexFunc(x.Treatments, func(t Treatment) bool { return t.Name == name })
	if i < 0 {
		return Treatment{}, false
	}
	return x.Treatments[i], true
}

// Bucket is the recipient's bucket in [0, Buckets) for campaign
// campaignID: the first eight bytes of the SHA-256 of the campaign id,
// the identity namespace and the userId (each followed by a zero byte, so
// no two triples share an input), modulo Buckets. It depends on nothing
// else, so it is the same in every process, execution and retry.
func Bucket(campaignID, namespace, userID string) int {
	h := sha256.New()
	for _, s := range []string{campaignID, namespace, userID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return int(binary.BigEndian.Uint64(h.Sum(sum[:0])[:8]) % Buckets)
}

// Assign returns the name of the treatment the recipient (namespace,
// userID) of campaign campaignID gets, or Holdout: treatments own
// consecutive ranges of buckets in their order, the holdout the buckets
// after the last.
func (x *Experiment) Assign(campaignID, namespace, userID string) string {
	b := Bucket(campaignID, namespace, userID)
	lo := 0
	for _, t := range x.Treatments {
		bp, _ := basisPoints(t.Percent)
		if lo += bp; b < lo {
			return t.Name
		}
	}
	return Holdout
}

// HoldoutPercent is the share of the recipients no treatment gets.
func (x *Experiment) HoldoutPercent() float64 {
	sum := 0
	for _, t := range x.Treatments {
		bp, _ := basisPoints(t.Percent)
		sum += bp
	}
	return float64(Buckets-sum) / 100
}

// checkExperiment validates an experiment's shape: 1-MaxTreatments
// uniquely named treatments, shares of 0.01-100 percent with at most two
// decimals summing to at most 100, each treatment's content checked as
// the default content is.
func checkExperiment(f *derrors.Fields, ch Channel, x *Experiment) {
	const p = "content.experiment"
	if len(x.Treatments) == 0 || len(x.Treatments) > MaxTreatments {
		f.Add(p+".treatments", "must have 1-%d treatments", MaxTreatments)
	}
	sum := 0
	for i, t := range x.Treatments {
		tp := TreatmentPath(t.Name)
		switch {
		case !treatmentName().MatchString(t.Name):
			tp = p + ".treatments[" + strconv.Itoa(i) + "]"
			f.Add(tp+".name", "must be 1-40 of letters, digits, '_' and '-', starting with a letter or digit")
		case strings.EqualFold(t.Name, Holdout):
			f.Add(tp+".name", "%q names the recipients outside every treatment; choose another name", Holdout)
		case slices.ContainsFunc(x.Treatments[:i], func(o Treatment) bool { return strings.EqualFold(o.Name, t.Name) }):
			f.Add(tp+".name", "names the same treatment as another (names match regardless of case)")
		}
		bp, ok := basisPoints(t.Percent)
		switch {
		case math.IsNaN(t.Percent) || t.Percent <= 0 || t.Percent > 100:
			f.Add(tp+".percent", "must be more than 0 and at most 100")
		case !ok:
			f.Add(tp+".percent", "must have at most two decimals")
		default:
			sum += bp
		}
		if !t.Control() {
			checkVariants(f, tp, ch, t.Content(Content{}))
		}
	}
	if sum > Buckets {
		f.Add(p+".treatments", "percentages must sum to at most 100 (the rest is the holdout); they sum to %.2f", float64(sum)/100)
	}
}

// PromoteInput is the body of POST /campaigns/{id}/promote: the
// treatment to promote.
type PromoteInput struct {
	Treatment string `json:"treatment"`
}

// PromoteTreatment makes treatment name of the experiment in campaign
// id's draft content the campaign's content: the draft's content becomes
// the treatment's (its locale variants included; the control keeps the
// default content) and the experiment ends. It is an edit like any other:
// on a live or scheduled campaign it is a pending draft version, reviewed
// and activated as usual, so it goes live as a new version. It returns
// derrors.Invalid naming "treatment" when the draft's experiment has no
// treatment so named (or the draft has no experiment).
func (s *Service) PromoteTreatment(ctx context.Context, t tenant.Tenant, id, name string, ifRevision int) (Campaign, error) {
	if name == "" {
		return Campaign{}, derrors.Validation(derrors.FieldError{Field: "treatment", Message: "is required: the name of the treatment to promote"})
	}
	return s.UpdateCampaign(ctx, t, id, func(in CampaignInput) (CampaignInput, error) {
		x := in.Content.Experiment
		if x == nil {
			return in, derrors.Validation(derrors.FieldError{Field: "treatment", Message: "the campaign's draft content has no experiment"})
		}
		tr, ok := x.Treatment(name)
		if !ok {
			return in, derrors.Validation(derrors.FieldError{Field: "treatment", Message: fmt.Sprintf("the experiment has no treatment %q", name)})
		}
		in.Content = tr.Content(in.Content)
		return in, nil
	}, ifRevision)
}
