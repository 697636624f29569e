// Package ops holds rotor's day-2 operations on a rotated secret, shared by
// the rotatenow Lambda function and the rotor CLI:
//
//   - RotateNow starts rotations of many secrets, paced below the account's
//     Secrets Manager write quota, and optionally follows each one to its
//     outcome (succeeded, failed with the failing step, timed out, refused).
//   - GetStatus reads where a secret stands: versions and labels, rotation
//     settings, the last outcome rotor recorded, and anything a failed
//     rotation left behind.
//   - Rollback makes AWSPREVIOUS current again, after proving it logs in.
//   - Preflight checks that a secret can be rotated, one named check at a time.
//   - CheckPending and Finish deal with an unfinished rotation: which
//     credential logs in, whether clearing AWSPENDING is safe, and
//     completing a single-user rotation that stopped after setSecret.
//
// Promises on failure:
//   - RotateNow never returns an error for one secret: every secret gets a
//     result. A rotation it refuses was not started; a RotateSecret call is
//     sent with a ClientRequestToken made here, so an SDK retry of the same
//     call cannot start a second rotation.
//   - GetStatus, CheckPending and Preflight change nothing (CheckPending and
//     Preflight log in to the database, and do nothing else there). Finish
//     changes only labels, and only when the pending credential is the one
//     that logs in.
//   - Rollback changes nothing when it refuses (*RefusedError). It changes
//     the database only after the login it needs worked, and puts the current
//     password back if the previous one still does not log in afterwards.
//   - No secret value reaches a result, an error or a log line.
package ops
