package awslocal

import (
	"encoding/json"
	"strings"
)

// Resource policies: PutResourcePolicy stores the document as given,
// GetResourcePolicy returns it, DeleteResourcePolicy removes it (also when
// there is none), ValidateResourcePolicy checks one without storing it.
// Nothing enforces a policy: the stand-in verifies no signatures and has no
// principals. What is checked is what a caller can see fail in AWS:
//
//   - 1–20480 characters (API model), else ValidationException;
//   - a JSON object with a Statement, else MalformedPolicyDocumentException;
//   - with BlockPublicPolicy true, a statement that allows any principal
//     ("*", {"AWS": "*"}) without a Condition is PublicPolicyException,
//     the policy unchanged (docs: BlockPublicPolicy blocks policies that
//     "allow broad access to the secret, for example those that use a
//     wildcard for the principal").
//
// A secret scheduled for deletion refuses Put and Delete like the other
// writes; Get answers for it. The message texts are the stand-in's.

const (
	codeMalformedPolicy = "MalformedPolicyDocumentException"
	codePublicPolicy    = "PublicPolicyException"
	maxPolicyLen        = 20480
)

type policyStatement struct {
	Effect    string          `json:"Effect"`
	Principal json.RawMessage `json:"Principal"`
	Condition json.RawMessage `json:"Condition"`
}

// parsePolicy checks a policy document's shape and reports whether it
// grants broad (public) access.
func parsePolicy(doc string) (public bool, e *apiError) {
	if len(doc) < 1 || len(doc) > maxPolicyLen {
		return false, errf(codeValidation, "1 validation error detected: Value at 'resourcePolicy' failed to satisfy constraint: Member must have length between 1 and %d", maxPolicyLen)
	}
	var p struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil || len(p.Statement) == 0 {
		return false, errf(codeMalformedPolicy, "The resource policy isn't a JSON policy document with a Statement.")
	}
	var stmts []policyStatement
	if err := json.Unmarshal(p.Statement, &stmts); err != nil {
		var one policyStatement
		if err := json.Unmarshal(p.Statement, &one); err != nil {
			return false, errf(codeMalformedPolicy, "The resource policy's Statement is neither a statement nor a list of statements.")
		}
		stmts = []policyStatement{one}
	}
	for _, st := range stmts {
		if st.Effect == "Allow" && wildcardPrincipal(st.Principal) && len(st.Condition) == 0 {
			public = true
		}
	}
	return public, nil
}

// wildcardPrincipal reports whether a Principal is "*" or names "*" among
// its AWS principals.
func wildcardPrincipal(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	aws := m["AWS"]
	if json.Unmarshal(aws, &s) == nil {
		return s == "*"
	}
	var list []string
	if json.Unmarshal(aws, &list) == nil {
		for _, p := range list {
			if strings.TrimSpace(p) == "*" {
				return true
			}
		}
	}
	return false
}

func (s *Server) putResourcePolicy(c *call) (any, *apiError) {
	var in struct {
		SecretId          string
		ResourcePolicy    string
		BlockPublicPolicy *bool
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	sec, e := s.live(in.SecretId)
	if e != nil {
		return nil, e
	}
	public, e := parsePolicy(in.ResourcePolicy)
	if e != nil {
		return nil, e
	}
	if public && in.BlockPublicPolicy != nil && *in.BlockPublicPolicy {
		return nil, errf(codePublicPolicy, "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.")
	}
	sec.Policy = in.ResourcePolicy
	sec.LastChanged = s.clock.Now()
	return arnName{sec.ARN, sec.Name}, nil
}

func (s *Server) getResourcePolicy(c *call) (any, *apiError) {
	sec, e := s.secretArg(c, false)
	if e != nil {
		return nil, e
	}
	return struct {
		ARN            string `json:"ARN"`
		Name           string `json:"Name"`
		ResourcePolicy string `json:"ResourcePolicy,omitempty"`
	}{sec.ARN, sec.Name, sec.Policy}, nil
}

func (s *Server) deleteResourcePolicy(c *call) (any, *apiError) {
	sec, e := s.secretArg(c, true)
	if e != nil {
		return nil, e
	}
	if sec.Policy != "" {
		sec.Policy = ""
		sec.LastChanged = s.clock.Now()
	}
	return arnName{sec.ARN, sec.Name}, nil
}

type policyValidationError struct {
	CheckName    string `json:"CheckName"`
	ErrorMessage string `json:"ErrorMessage"`
}

// validateResourcePolicy checks a policy without storing it. A document
// that is not a policy is a failed validation (PolicyValidationPassed
// false, one ValidationErrors entry), not an error; a SecretId, when given,
// must name a secret.
func (s *Server) validateResourcePolicy(c *call) (any, *apiError) {
	var in struct{ SecretId, ResourcePolicy string }
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if in.SecretId != "" && s.find(in.SecretId) == nil {
		return nil, errSecretNotFound()
	}
	out := struct {
		PolicyValidationPassed bool                    `json:"PolicyValidationPassed"`
		ValidationErrors       []policyValidationError `json:"ValidationErrors"`
	}{PolicyValidationPassed: true, ValidationErrors: []policyValidationError{}}
	if _, e := parsePolicy(in.ResourcePolicy); e != nil {
		if e.Code == codeValidation {
			return nil, e
		}
		out.PolicyValidationPassed = false
		out.ValidationErrors = append(out.ValidationErrors, policyValidationError{CheckName: "SYNTAX_CHECK", ErrorMessage: e.Message})
	}
	return out, nil
}
