// Package rotation implements Secrets Manager's four-step rotation protocol
// (createSecret, setSecret, testSecret, finishSecret) against the Secrets
// Manager API, and nothing about databases: what a step does to the
// credential is the strategy's business (package strategies).
//
// Promises:
//   - Every step is safe to repeat. createSecret writes the pending version
//     with the event's token as its ClientRequestToken, so a second write is
//     refused by Secrets Manager and recognised; setSecret and testSecret are
//     repeatable by the strategies' contract; finishSecret moves AWSCURRENT
//     only if it is not already on the token. A rotation interrupted anywhere
//     leaves AWSCURRENT on a working credential and the next attempt finishes.
//   - A step only acts on a token that is AWSPENDING on the secret; a token
//     that is already AWSCURRENT returns at once.
//   - RotationToken from the event is passed to PutSecretValue.
//   - Secret values never reach a log line, an error string or a tag: every
//     password the invocation has seen is redacted from the returned error,
//     and the outcome tags carry only that redacted text.
//   - Few API calls: versions are immutable, so values read or written by an
//     earlier step in the same warm container are reused by VersionId. A
//     single-user rotation makes 8 Secrets Manager calls in a warm container,
//     alternating-users 9 (one more read for the admin secret).
package rotation
