package awslocal

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
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
	if e := checkFilters(fs); e != nil {
		return nil, e
	}
	var out []*secret
	for _, sec := range s.secrets {
		if listed(sec, fs, includeDeleted) {
			out = append(out, sec)
		}
	}
	return out, nil
}

func checkFilters(fs []filter) *apiError {
	for i, f := range fs {
		if err := (events.SecretFilter{Key: f.Key, Values: f.Values}).Validate(); err != nil {
			return filterError(f, i, err)
		}
	}
	return nil
}

// listed reports whether sec passes the (validated) filters.
func listed(sec *secret, fs []filter, includeDeleted bool) bool {
	if sec.deleted() && !includeDeleted {
		return false
	}
	for _, f := range fs {
		any := false
		for _, v := range f.Values {
			if matchValue(sec, f.Key, v) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	return true
}

// listCursor is ListSecrets' NextToken: the creation order (secret.ord) of
// the last secret a page returned. The next page starts after it in the
// requested direction, so a page costs the secrets it returns plus the
// non-matching ones it skips, never a pass over the whole list; secrets
// created between pages appear (asc) and removed ones are simply gone.
type listCursor struct {
	After int64 `json:"after"`
}

func encodeCursor(ord int64) string {
	b, _ := json.Marshal(listCursor{ord})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(tok string) (int64, bool, *apiError) {
	if tok == "" {
		return 0, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	var c listCursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.After < 0 {
		return 0, false, errf(codeInvalidParameter, "The NextToken value is invalid.")
	}
	return c.After, true, nil
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
	if e := checkFilters(in.Filters); e != nil {
		return nil, e
	}
	// Choice: ordered by creation time, oldest first ("asc", the default);
	// "desc" reverses.
	desc := false
	switch in.SortOrder {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return nil, errf(codeValidation, "1 validation error detected: Value '%s' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]", in.SortOrder)
	}
	m := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, errf(codeValidation, "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", *in.MaxResults)
		}
		m = *in.MaxResults
	}
	after, resume, e := decodeCursor(in.NextToken)
	if e != nil {
		return nil, e
	}
	// i walks s.secrets (creation order) from just past the cursor.
	i, step := 0, 1
	if desc {
		i, step = len(s.secrets)-1, -1
	}
	if resume {
		i = sort.Search(len(s.secrets), func(k int) bool { return s.secrets[k].ord > after })
		if desc {
			i = sort.Search(len(s.secrets), func(k int) bool { return s.secrets[k].ord >= after }) - 1
		}
	}
	var matched []*secret
	next := ""
	for ; i >= 0 && i < len(s.secrets); i += step {
		sec := s.secrets[i]
		if !listed(sec, in.Filters, in.IncludePlannedDeletion) {
			continue
		}
		if len(matched) == m {
			next = encodeCursor(matched[m-1].ord) // one more matches: there is a next page
			break
		}
		matched = append(matched, sec)
	}
	out := struct {
		SecretList []listEntry `json:"SecretList"`
		NextToken  string      `json:"NextToken,omitempty"`
	}{SecretList: []listEntry{}, NextToken: next}
	for _, sec := range matched {
		d := s.describe(sec)
		m := d.VersionIdsToStages
		d.VersionIdsToStages = nil
		out.SecretList = append(out.SecretList, listEntry{describeOut: d, SecretVersionsToStages: m})
	}
	return out, nil
}
