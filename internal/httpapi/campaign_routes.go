package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/campaign"
	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/preview"
	"github.com/heraldhq/herald/internal/strictjson"
)

// campaignRoutes are the channel configuration and campaign routes.
// Every configuration and campaign response carries its revision as an
// ETag; PATCH, DELETE and the actions honour If-Match (412 when stale).
// A PATCH body is an RFC 7396 merge patch, parsed here into the edit the
// service applies under its revision check.
func campaignRoutes(d ManageDeps) map[string]route {
	cs := d.Campaigns
	// detail answers with the campaign's detail view.
	detail := func(ctx context.Context, r *request, status int, c campaign.Campaign, err error) (int, any, error) {
		if err != nil {
			return 0, nil, err
		}
		dt, err := cs.DetailOf(ctx, r.tenant(), c)
		return status, dt, err
	}
	// action is a POST /campaigns/{id}/<verb> lifecycle action.
	action := func(do func(ctx context.Context, r *request, id string, ifRev int) (campaign.Campaign, error)) route {
		return route{scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				id := r.campaignID()
				ifRev, err := r.ifMatch()
				if err != nil {
					return 0, nil, err
				}
				c, err := do(ctx, r, id, ifRev)
				return detail(ctx, r, http.StatusOK, c, err)
			}}
	}
	return map[string]route{
		"POST /channel-configurations": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in campaign.ConfigInput
				if err := strictjson.Decode(r.body, &in); err != nil {
					return 0, nil, err
				}
				c, err := cs.CreateConfig(ctx, r.tenant(), in)
				return http.StatusCreated, c, err
			}},
		"GET /channel-configurations": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				f, err := r.listFilter("channel", "category", "name", "limit", "cursor")
				if err != nil {
					return 0, nil, err
				}
				p, err := cs.ListConfigs(ctx, r.tenant(), f)
				return http.StatusOK, p, err
			}},
		"GET /channel-configurations/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				c, err := cs.GetConfig(ctx, r.tenant(), r.param("id"))
				return http.StatusOK, c, err
			}},
		"PATCH /channel-configurations/{id}": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				ifRev, err := r.ifMatch()
				if err != nil {
					return 0, nil, err
				}
				edit, err := strictjson.ParsePatch[campaign.ConfigInput](r.body)
				if err != nil {
					return 0, nil, err
				}
				c, err := cs.UpdateConfig(ctx, r.tenant(), r.param("id"), edit, ifRev)
				return http.StatusOK, c, err
			}},
		"DELETE /channel-configurations/{id}": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				ifRev, err := r.ifMatch()
				if err != nil {
					return 0, nil, err
				}
				return http.StatusNoContent, nil, cs.DeleteConfig(ctx, r.tenant(), r.param("id"), ifRev)
			}},
		"POST /campaigns": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in campaign.CampaignInput
				if err := strictjson.Decode(r.body, &in); err != nil {
					return 0, nil, err
				}
				c, err := cs.CreateCampaign(ctx, r.tenant(), in)
				return detail(ctx, r, http.StatusCreated, c, err)
			}},
		"GET /campaigns": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				f, err := r.listFilter("status", "type", "channel", "tag", "name", "limit", "cursor")
				if err != nil {
					return 0, nil, err
				}
				p, err := cs.ListCampaigns(ctx, r.tenant(), f)
				return http.StatusOK, p, err
			}},
		"GET /campaigns/{id}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				dt, err := cs.Detail(ctx, r.tenant(), r.campaignID())
				return http.StatusOK, dt, err
			}},
		"PATCH /campaigns/{id}": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				id := r.campaignID()
				ifRev, err := r.ifMatch()
				if err != nil {
					return 0, nil, err
				}
				edit, err := strictjson.ParsePatch[campaign.CampaignInput](r.body)
				if err != nil {
					return 0, nil, err
				}
				c, err := cs.UpdateCampaign(ctx, r.tenant(), id, edit, ifRev)
				return detail(ctx, r, http.StatusOK, c, err)
			}},
		"DELETE /campaigns/{id}": {scopes: manageScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				id := r.campaignID()
				ifRev, err := r.ifMatch()
				if err != nil {
					return 0, nil, err
				}
				return http.StatusNoContent, nil, cs.DeleteCampaign(ctx, r.tenant(), id, ifRev)
			}},
		"POST /campaigns/{id}/review": {scopes: readScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				rep, err := cs.Review(ctx, r.tenant(), r.campaignID())
				return http.StatusOK, rep, err
			}},
		"POST /campaigns/{id}/activate": action(func(ctx context.Context, r *request, id string, ifRev int) (campaign.Campaign, error) {
			return cs.ActivateRevision(ctx, r.tenant(), id, ifRev)
		}),
		"POST /campaigns/{id}/stop": action(func(ctx context.Context, r *request, id string, ifRev int) (campaign.Campaign, error) {
			return cs.Stop(ctx, r.tenant(), id, ifRev)
		}),
		"POST /campaigns/{id}/archive": action(func(ctx context.Context, r *request, id string, ifRev int) (campaign.Campaign, error) {
			return cs.Archive(ctx, r.tenant(), id, ifRev)
		}),
		"POST /campaigns/{id}/promote": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				id := r.campaignID()
				ifRev, err := r.ifMatch()
				if err != nil {
					return 0, nil, err
				}
				var in campaign.PromoteInput
				if err := strictjson.Decode(r.body, &in); err != nil {
					return 0, nil, err
				}
				c, err := cs.PromoteTreatment(ctx, r.tenant(), id, in.Treatment, ifRev)
				return detail(ctx, r, http.StatusOK, c, err)
			}},
		"POST /campaigns/{id}/duplicate": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				var in campaign.DuplicateInput
				if len(strings.TrimSpace(string(r.body))) > 0 {
					if err := strictjson.Decode(r.body, &in); err != nil {
						return 0, nil, err
					}
				}
				c, err := cs.Duplicate(ctx, r.tenant(), r.campaignID(), in)
				return detail(ctx, r, http.StatusCreated, c, err)
			}},
		"POST /campaigns/{id}/preview": {scopes: readScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				id := r.campaignID()
				var in preview.Request
				if len(strings.TrimSpace(string(r.body))) > 0 {
					if err := strictjson.Decode(r.body, &in); err != nil {
						return 0, nil, err
					}
				}
				out, err := d.Preview.Preview(ctx, r.tenant(), id, in)
				return http.StatusOK, out, err
			}},
		"POST /campaigns/{id}/proofs": {scopes: manageScopes, maxBody: maxManageBody,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				id := r.campaignID()
				var in preview.ProofRequest
				if err := strictjson.Decode(r.body, &in); err != nil {
					return 0, nil, err
				}
				out, err := d.Preview.Proofs(ctx, r.tenant(), id, in)
				return http.StatusOK, out, err
			}},
		"GET /campaigns/{id}/request-sample": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				out, err := d.Preview.RequestSample(ctx, r.tenant(), r.campaignID(), preview.Caller{
					BaseURL: r.baseURL(), KeyID: r.principal.KeyID, Org: r.tenant().Org, Sandbox: r.tenant().Sandbox})
				return http.StatusOK, out, err
			}},
		"GET /campaigns/{id}/versions": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				limit, err := r.intQuery("limit")
				if err != nil {
					return 0, nil, err
				}
				p, err := cs.ListVersions(ctx, r.tenant(), r.campaignID(), limit, r.event.QueryStringParameters["cursor"])
				return http.StatusOK, p, err
			}},
		"GET /campaigns/{id}/versions/{number}": {scopes: readScopes,
			handle: func(ctx context.Context, r *request) (int, any, error) {
				n, err := strconv.Atoi(r.param("number"))
				if err != nil || n < 1 {
					return 0, nil, derrors.New(derrors.NotFound, "no version %q", r.param("number"))
				}
				v, err := cs.GetVersion(ctx, r.tenant(), r.campaignID(), n)
				return http.StatusOK, v, err
			}},
	}
}

func (r *request) campaignID() string {
	id := r.param("id")
	r.report["campaignId"] = id
	return id
}

// ifMatch returns the revision an If-Match header asks for: 0 when absent
// or "*". A tag that is not one of ours can never match: 412.
func (r *request) ifMatch() (int, error) {
	h := strings.TrimSpace(r.header("if-match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	tag := strings.TrimPrefix(h, "W/")
	n, err := strconv.Atoi(strings.Trim(tag, `"`))
	if err != nil || n < 1 || strings.Contains(h, ",") {
		return 0, derrors.New(derrors.Precondition, "If-Match %s does not match the current ETag; send the ETag of a GET", h)
	}
	return n, nil
}

func (r *request) intQuery(name string) (int, error) {
	v := r.event.QueryStringParameters[name]
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, derrors.Validation(derrors.FieldError{Field: name, Message: "must be an integer"})
	}
	return n, nil
}

// listFilter reads the allowed query parameters of a list route; any
// other parameter is a 400, as unknown body fields are.
func (r *request) listFilter(allowed ...string) (campaign.ListFilter, error) {
	var f derrors.Fields
	q := r.event.QueryStringParameters
	for k := range q {
		if !contains(allowed, k) {
			f.Add(k, "is not a known query parameter (known: %s)", strings.Join(allowed, ", "))
		}
	}
	if err := f.Err(); err != nil {
		return campaign.ListFilter{}, err
	}
	limit, err := r.intQuery("limit")
	if err != nil {
		return campaign.ListFilter{}, err
	}
	typ := q["type"]
	if contains(allowed, "category") {
		typ = q["category"]
	}
	return campaign.ListFilter{Status: campaign.Status(q["status"]), Type: campaign.Type(typ), Channel: campaign.Channel(q["channel"]),
		Tag: q["tag"], NamePrefix: q["name"], Limit: limit, Cursor: q["cursor"]}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// baseURL is the API's base URL as the caller reached it.
func (r *request) baseURL() string {
	host := r.header("host")
	if host == "" {
		host = r.event.RequestContext.DomainName
	}
	proto := r.header("x-forwarded-proto")
	if proto == "" {
		proto = "https"
	}
	base := proto + "://" + host
	if st := r.event.RequestContext.Stage; st != "" && st != "$default" {
		base += "/" + st
	}
	return base + r.basePath
}
