package awslocal

import (
	"strings"
)

type filter struct {
	Key    string
	Values []string
}

// matchValue reports whether one filter value matches a secret. Matching is
// by prefix. Choice (docs are loose): name, description, tag-key and
// tag-value are case-sensitive; "all" is case-insensitive and tries name,
// description, tag keys and tag values. A leading "!" negates: the secret
// matches when no attribute starts with the rest.
func matchValue(sec *secret, key, val string) bool {
	neg := strings.HasPrefix(val, "!")
	val = strings.TrimPrefix(val, "!")
	var attrs []string
	fold := false
	switch key {
	case "name":
		attrs = []string{sec.Name}
	case "description":
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
	case "primary-region", "owning-service":
		// Not modelled: no secret is replicated or service-owned.
	case "all":
		fold = true
		attrs = []string{sec.Name}
		if sec.Description != nil {
			attrs = append(attrs, *sec.Description)
		}
		for _, t := range sec.Tags {
			attrs = append(attrs, t.Key, t.Value)
		}
	}
	hit := false
	for _, a := range attrs {
		if fold {
			a, val = strings.ToLower(a), strings.ToLower(val)
		}
		if strings.HasPrefix(a, val) {
			hit = true
			break
		}
	}
	return hit != neg
}

var filterKeys = map[string]bool{"name": true, "description": true, "tag-key": true, "tag-value": true, "primary-region": true, "owning-service": true, "all": true}

// filterSecrets applies ListSecrets filters: values of one filter are ORed,
// filters are ANDed. Secrets scheduled for deletion are left out unless
// includeDeleted.
func (s *Server) filterSecrets(fs []filter, includeDeleted bool) ([]*secret, *apiError) {
	for _, f := range fs {
		if !filterKeys[f.Key] {
			return nil, errf(codeValidation, "1 validation error detected: Value '%s' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [all, name, tag-key, description, tag-value, primary-region, owning-service]", f.Key)
		}
		if len(f.Values) < 1 || len(f.Values) > 10 {
			return nil, errf(codeValidation, "1 validation error detected: Value at 'filters.1.member.values' failed to satisfy constraint: Member must have length between 1 and 10")
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
