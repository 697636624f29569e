package awslocal

import (
	"errors"
	"strings"

	"github.com/rotorhq/rotor/events"
)

type filter struct {
	Key    string
	Values []string
}

// matchValue reports whether one filter value matches a secret, by the
// rules the ListSecrets documentation gives for each key: prefix matches,
// case-sensitive except description; "all" breaks the value into words and
// matches, not case-sensitively, when any word starts the name, the
// description, a tag key or a tag value, or one of their words. A leading
// "!" negates: the secret matches when nothing does. primary-region and
// owning-service never match (no secret here is replicated or owned by a
// service).
func matchValue(sec *secret, key, val string) bool {
	neg := strings.HasPrefix(val, "!")
	val = strings.TrimPrefix(val, "!")
	var attrs []string
	fold := false
	words := []string{val}
	switch key {
	case "name":
		attrs = []string{sec.Name}
	case "description":
		fold = true
		if sec.Description != nil {
			attrs = []string{*sec.Description}
		}
	case "tag-key":
		for _, t := range sec.Tags {
			attrs = append(attrs, t.Key)
		}
	case "tag-value":
		for _, t := range sec.Tags {
			attrs = append(attrs, t.Value)
		}
	case "all":
		fold = true
		words = strings.Fields(val)
		attrs = []string{sec.Name}
		if sec.Description != nil {
			attrs = append(attrs, *sec.Description)
		}
		for _, t := range sec.Tags {
			attrs = append(attrs, t.Key, t.Value)
		}
		for _, a := range attrs[:len(attrs):len(attrs)] {
			if f := strings.Fields(a); len(f) > 1 {
				attrs = append(attrs, f...)
			}
		}
	}
	hit := false
	for _, a := range attrs {
		for _, w := range words {
			if fold {
				a, w = strings.ToLower(a), strings.ToLower(w)
			}
			if strings.HasPrefix(a, w) {
				hit = true
			}
		}
	}
	return hit != neg
}

// filterError answers a filter events.SecretFilter.Validate refused, in
// the service's validation shape. i counts from 0.
func filterError(f filter, i int, err error) *apiError {
	var fe *events.FieldError
	if errors.As(err, &fe) && fe.Field == "key" {
		return errf(codeValidation, "1 validation error detected: Value '%s' at 'filters.%d.member.key' failed to satisfy constraint: Member must satisfy enum value set: [%s]", f.Key, i+1, strings.Join(events.FilterKeys, ", "))
	}
	if len(f.Values) < 1 || len(f.Values) > events.MaxFilterValues {
		return errf(codeValidation, "1 validation error detected: Value at 'filters.%d.member.values' failed to satisfy constraint: Member must have length between 1 and %d", i+1, events.MaxFilterValues)
	}
	return errf(codeValidation, "1 validation error detected: Value '[%s]' at 'filters.%d.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to %d, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: %s]",
		strings.Join(f.Values, ", "), i+1, events.MaxFilterValueLen, events.FilterValuePattern)
}

// filterSecrets applies ListSecrets filters: values of one filter are ORed,
// filters are ANDed. Filters are validated by events.SecretFilter.Validate,
// the same rule `rotor rotate --filter` and rotate-now check. Secrets
// scheduled for deletion are left out unless includeDeleted.
func (s *Server) filterSecrets(fs []filter, includeDeleted bool) ([]*secret, *apiError) {
	for i, f := range fs {
		if err := (events.SecretFilter{Key: f.Key, Values: f.Values}).Validate(); err != nil {
			return nil, filterError(f, i, err)
		}
	}
	var out []*secret
	for _, sec := range s.secrets {
		if sec.deleted() && !includeDeleted {
			continue
		}
		ok := true
		for _, f := range fs {
			any := false
			for _, v := range f.Values {
				if matchValue(sec, f.Key, v) {
					any = true
					break
				}
			}
			if !any {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, sec)
		}
	}
	return out, nil
}

type listEntry struct {
	describeOut
	VersionIdsToStages     map[string][]string `json:"VersionIdsToStages,omitempty"` // shadowed, never set
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
}

func (s *Server) listSecrets(c *call) (any, *apiError) {
	var in struct {
		Filters                []filter
		MaxResults             *int
		NextToken              string
		SortOrder              string
		IncludePlannedDeletion bool
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	matched, e := s.filterSecrets(in.Filters, in.IncludePlannedDeletion)
	if e != nil {
		return nil, e
	}
	// Choice: ordered by creation time, oldest first ("asc", the default);
	// "desc" reverses.
	switch in.SortOrder {
	case "", "asc":
	case "desc":
		for i, j := 0, len(matched)-1; i < j; i, j = i+1, j-1 {
			matched[i], matched[j] = matched[j], matched[i]
		}
	default:
		return nil, errf(codeValidation, "1 validation error detected: Value '%s' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]", in.SortOrder)
	}
	lo, hi, next, e := page(len(matched), in.NextToken, in.MaxResults)
	if e != nil {
		return nil, e
	}
	out := struct {
		SecretList []listEntry `json:"SecretList"`
		NextToken  string      `json:"NextToken,omitempty"`
	}{SecretList: []listEntry{}, NextToken: next}
	for _, sec := range matched[lo:hi] {
		d := s.describe(sec)
		m := d.VersionIdsToStages
		d.VersionIdsToStages = nil
		out.SecretList = append(out.SecretList, listEntry{describeOut: d, SecretVersionsToStages: m})
	}
	return out, nil
}
