// Package events holds the plain data that crosses rotor's boundaries: the
// rotation event Secrets Manager sends to a rotation function, the four step
// names, and the JSON secret document that AWS's own rotation templates use;
// the EventBridge events Secrets Manager's rotations produce through
// CloudTrail (RotationStarted, RotationSucceeded, RotationFailed,
// RotationAbandoned), and rotor's own Alert that the notifier and auditor
// publish.
//
// The package has no runtime code beyond parsing and validation. Wire names are
// pinned by the fixtures in testdata/ and the round-trip tests beside them.
// Validation errors name the field that is wrong and never quote a secret
// value.
package events
