// Package alerting turns rotation trouble into alerts an operator can act on.
//
// The Notifier handles one EventBridge event from Secrets Manager
// (RotationFailed, TestRotationFailed, RotationAbandoned): it reads the
// secret's metadata and rotor's outcome tags with DescribeSecret, builds an
// events.Alert (secret, failed step, redacted reason, last success, what to
// do) and publishes it to SNS. Its promise on repetition: a redelivered
// event, an event older than the last one alerted, and a retry of the same
// rotation failing at the same step send nothing new. It remembers what it
// alerted in the secret's tag rotor:last-alert, so the promise holds across
// Lambda containers without a database. The tag is written after the
// publish succeeds: a crash between the two sends the alert again on
// redelivery (at least once), never loses it.
//
// The Auditor runs on a schedule. It lists every secret with rotation
// enabled and reports, one alert per finding: a rotation overdue past its
// window, AWSPENDING left on a non-current version for longer than a
// threshold, a last outcome of failed, and a rotation function that is
// missing or cannot be invoked. Healthy secrets produce nothing. Each run
// writes one EMF line with the counts (OverdueSecrets, StuckRotations,
// FailedRotations, MissingFunctions, SecretsAudited, AuditErrors), zeros
// included, so alarms see a value every run. A finding repeats on every run
// until it is fixed.
//
// Neither ever reads a secret value: they call DescribeSecret, ListSecrets,
// ListSecretVersionIds and Lambda's GetFunctionConfiguration only, and the
// reason they report is the one rotor already redacted into its outcome tag
// or Secrets Manager's own error message.
package alerting
