// Package audience keeps marketing audiences: named lists of profile
// identities that an audience execution fans out to.
//
// Members are identities, not profiles: a member may refer to a profile
// that does not exist (yet); it is counted like any other and excluded at
// send time (excluded:no_profile). An audience may hold millions of
// members, so members are read in pages behind an opaque cursor and never
// loaded whole.
package audience

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/derrors"
	"github.com/heraldhq/herald/internal/profile"
	"github.com/heraldhq/herald/internal/tenant"
)

// Limits.
const (
	// MaxMembersPerCall bounds one add or remove call.
	MaxMembersPerCall = 10_000
	// MaxPageSize bounds one page of GET …/members.
	MaxPageSize = 1000
	// DefaultPageSize is a page's size when the caller names none.
	DefaultPageSize = 100
	maxNameLen      = 256
	maxDescLen      = 4096
)

// Audience is a named list of members.
type Audience struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	MemberCount int64     `json:"memberCount"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Member is one identity of an audience, as the API shows it.
type Member struct {
	Namespace string `json:"namespace"`
	ID        string `json:"id"`
}

// Identity returns the member's profile identity.
func (m Member) Identity() profile.Identity {
	return profile.Identity{Namespace: m.Namespace, ID: m.ID}
}

// Page is one page of members and the cursor of the next ("" at the end).
type Page struct {
	Members []Member `json:"members"`
	Next    string   `json:"next,omitempty"`
}

// Store persists audiences and their members per tenant.
type Store interface {
	// CreateAudience stores a new audience; derrors.Conflict if the id exists.
	CreateAudience(ctx context.Context, t tenant.Tenant, a Audience) error
	// GetAudience returns an audience or derrors.NotFound.
	GetAudience(ctx context.Context, t tenant.Tenant, id string) (Audience, error)
	// ListAudiences returns the tenant's audiences, a page at a time.
	ListAudiences(ctx context.Context, t tenant.Tenant, cursor string, limit int) ([]Audience, string, error)
	// DeleteAudience removes an audience and its members;
	// derrors.NotFound if it does not exist.
	DeleteAudience(ctx context.Context, t tenant.Tenant, id string) error
	// AddMembers adds members (any number; the store chunks to its
	// limits) and returns how many were new; members already present
	// are left alone. The audience's count grows by that number.
	// derrors.NotFound if the audience does not exist.
	AddMembers(ctx context.Context, t tenant.Tenant, id string, ms []Member) (added int, err error)
	// RemoveMembers removes members and returns how many were present.
	RemoveMembers(ctx context.Context, t tenant.Tenant, id string, ms []Member) (removed int, err error)
	// Members returns up to limit members after cursor ("" = from the
	// start) in a stable order, and the cursor to continue from ("" when
	// there are no more). A cursor stays valid while members change:
	// members added behind it are not seen, members ahead are.
	Members(ctx context.Context, t tenant.Tenant, id, cursor string, limit int) (Page, error)
}

// Input is the body of POST /audiences.
type Input struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// MembersInput is the body of POST and DELETE /audiences/{id}/members.
type MembersInput struct {
	Members []Member `json:"members"`
}

// MembersResult answers a members change.
type MembersResult struct {
	AudienceID  string `json:"audienceId"`
	Added       int    `json:"added,omitempty"`
	Removed     int    `json:"removed,omitempty"`
	MemberCount int64  `json:"memberCount"`
}

// Service validates and runs audience calls.
type Service struct {
	Store Store
	Now   func() time.Time
	NewID func() string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Create validates and stores a new, empty audience.
func (s *Service) Create(ctx context.Context, t tenant.Tenant, in Input) (Audience, error) {
	var f derrors.Fields
	switch n := utf8.RuneCountInString(strings.TrimSpace(in.Name)); {
	case n == 0:
		f.Add("name", "is required")
	case utf8.RuneCountInString(in.Name) > maxNameLen:
		f.Add("name", "must be at most %d characters", maxNameLen)
	}
	if utf8.RuneCountInString(in.Description) > maxDescLen {
		f.Add("description", "must be at most %d characters", maxDescLen)
	}
	if err := f.Err(); err != nil {
		return Audience{}, err
	}
	id := uuid.NewString()
	if s.NewID != nil {
		id = s.NewID()
	}
	now := s.now()
	a := Audience{ID: id, Name: in.Name, Description: in.Description, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateAudience(ctx, t, a); err != nil {
		return Audience{}, fmt.Errorf("create audience: %w", err)
	}
	return a, nil
}

// Get returns an audience with its member count.
func (s *Service) Get(ctx context.Context, t tenant.Tenant, id string) (Audience, error) {
	return s.Store.GetAudience(ctx, t, id)
}

// List returns a page of the tenant's audiences.
func (s *Service) List(ctx context.Context, t tenant.Tenant, cursor string, limit int) ([]Audience, string, error) {
	limit, err := pageSize(limit)
	if err != nil {
		return nil, "", err
	}
	return s.Store.ListAudiences(ctx, t, cursor, limit)
}

// Delete removes an audience and its members.
func (s *Service) Delete(ctx context.Context, t tenant.Tenant, id string) error {
	return s.Store.DeleteAudience(ctx, t, id)
}

// AddMembers adds up to MaxMembersPerCall members.
func (s *Service) AddMembers(ctx context.Context, t tenant.Tenant, id string, in MembersInput) (MembersResult, error) {
	ms, err := validMembers(in.Members)
	if err != nil {
		return MembersResult{}, err
	}
	n, err := s.Store.AddMembers(ctx, t, id, ms)
	if err != nil {
		return MembersResult{}, err
	}
	a, err := s.Store.GetAudience(ctx, t, id)
	return MembersResult{AudienceID: id, Added: n, MemberCount: a.MemberCount}, err
}

// RemoveMembers removes up to MaxMembersPerCall members.
func (s *Service) RemoveMembers(ctx context.Context, t tenant.Tenant, id string, in MembersInput) (MembersResult, error) {
	ms, err := validMembers(in.Members)
	if err != nil {
		return MembersResult{}, err
	}
	n, err := s.Store.RemoveMembers(ctx, t, id, ms)
	if err != nil {
		return MembersResult{}, err
	}
	a, err := s.Store.GetAudience(ctx, t, id)
	return MembersResult{AudienceID: id, Removed: n, MemberCount: a.MemberCount}, err
}

// Members returns a page of an audience's members.
func (s *Service) Members(ctx context.Context, t tenant.Tenant, id, cursor string, limit int) (Page, error) {
	limit, err := pageSize(limit)
	if err != nil {
		return Page{}, err
	}
	if _, err := s.Store.GetAudience(ctx, t, id); err != nil {
		return Page{}, err
	}
	return s.Store.Members(ctx, t, id, cursor, limit)
}

func pageSize(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultPageSize, nil
	case limit < 0 || limit > MaxPageSize:
		return 0, derrors.Validation(derrors.FieldError{Field: "limit", Message: fmt.Sprintf("must be 1 to %d", MaxPageSize)})
	}
	return limit, nil
}

// validMembers checks a members list and drops duplicates within it.
func validMembers(ms []Member) ([]Member, error) {
	var f derrors.Fields
	switch n := len(ms); {
	case ms == nil:
		f.Add("members", "is required")
	case n == 0 || n > MaxMembersPerCall:
		f.Add("members", "must hold 1 to %d members, not %d", MaxMembersPerCall, n)
	}
	seen := make(map[Member]bool, len(ms))
	out := make([]Member, 0, len(ms))
	for i, m := range ms {
		p := fmt.Sprintf("members[%d]", i)
		if m.Namespace == "" {
			f.Add(p+".namespace", "is required")
		}
		if m.ID == "" {
			f.Add(p+".id", "is required")
		}
		if m.Namespace != "" && m.ID != "" {
			profile.ValidateIdentity(&f, p, m.Identity())
		}
		if len(f) > 20 {
			break // enough to act on; a 10,000-line report helps nobody
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
