// Package awslocal is rotor's local stand-in for AWS Secrets Manager, with
// just enough of Lambda (Invoke), RDS (DescribeDBInstances,
// DescribeDBClusters, ModifyDBInstance and ModifyDBCluster for the master
// password) and SNS (CreateTopic, Publish) for rotor's tests, demo
// and benchmarks. Every test that talks to "AWS" trusts it, so it keeps the
// contract in the project's Secrets Manager spec (specs/secrets-manager.md in
// the steering repository's shared folder), odd corners included.
//
// # What it owns
//
// An http.Handler (Server) and a loopback listener (Start, default
// 127.0.0.1, a free port), the secrets, versions and labels, the rotation
// engine that invokes registered functions, a schedule driven by an
// injectable Clock, call counters, rotation events, and an optional JSON
// state file: a snapshot written atomically (temp file + rename) plus a
// journal of changed secrets, group-committed (one fsync per group) with a
// request answered only once its change is on disk, so a kill loses no
// acknowledged write (store.go); a read persists only when it changes a
// stored LastAccessedDate (a day). A temp file a killed server left behind
// is removed at the next start. Secrets are indexed by name and ARN.
// Package awslocaltest gives a test a server and an aws.Config for the real
// SDK clients in one line.
//
// # What matches AWS
//
//   - Wire: awsJson1.1 on POST / by X-Amz-Target; errors HTTP 400
//     {"__type","Message"} (only InternalServiceError is 500); timestamps as
//     epoch-second numbers; SecretBinary base64. awsQuery (form body with
//     Action=) for RDS and SNS with XML answers and the awsQuery error shape
//     (DBInstanceNotFound, DBClusterNotFoundFault: HTTP 404). Lambda Invoke on
//     POST /2015-03-31/functions/<name-or-arn>/invocations and
//     GetFunctionConfiguration on GET …/configuration (State and
//     StateReason set with SetFunctionState). SigV4 is not verified;
//     the region of new ARNs comes from the credential scope when present.
//   - Addressing by name, full ARN, or partial ARN; the ARN suffix is six
//     random characters.
//   - Staging labels: one version per label; PutSecretValue without
//     VersionStages moves AWSCURRENT (old → AWSPREVIOUS) and removes
//     AWSPENDING, recording RotationAbandoned only when the label marked an
//     unfinished rotation (not on the former AWSCURRENT version, not on the
//     version written); with VersionStages attaches exactly those. UpdateSecretVersionStage with the recorded
//     RemoveFromVersionId rule and text, AWSPENDING left on a promoted
//     version. Unlabeled versions are deprecated: hidden from
//     VersionIdsToStages/SecretVersionsToStages and from ListSecretVersionIds
//     unless IncludeDeprecated, still readable by id.
//   - ClientRequestToken: required by CreateSecret, PutSecretValue,
//     UpdateSecret and RotateSecret, with or without a value
//     (InvalidRequestException "You must provide a ClientRequestToken
//     value. We recommend a UUID-type value." without it, as recorded; SDKs
//     always send one), 32–64 characters, becomes the VersionId; same
//     token and value is an idempotent success, same token and another value
//     ResourceExistsException, except the value-less AWSPENDING placeholder,
//     which the put fills.
//   - GetSecretValue's recorded errors, the placeholder answering
//     ResourceNotFoundException however it is asked for; the scheduled-for-
//     deletion rules (Get, Put, Update, Tag, Untag, Rotate refuse with
//     InvalidRequestException; DescribeSecret shows DeletedDate; ListSecrets
//     leaves the secret out); force-deleting an unknown secret succeeds.
//   - DescribeSecret omits unset fields: no Rotation* before rotation is
//     configured, no Tags until tagged, [] after the last tag is removed;
//     no LastRotatedDate or NextRotationDate while rotation is disabled
//     (after CancelRotateSecret). NextRotationDate stays in the past after
//     a failed scheduled rotation. RotationRules with a ScheduleExpression
//     come back with AutomaticallyAfterDays, the days between rotations
//     (rounded up) as the service calculates it.
//   - RotateSecret checks before answering (secret, function given or
//     stored, function invokable else AccessDeniedException 400, no
//     unfinished AWSPENDING), stores the configuration, creates the
//     value-less AWSPENDING placeholder (VersionId = token), answers, then
//     invokes createSecret, setSecret, testSecret, finishSecret
//     asynchronously, one synchronous invocation each, with the full ARN,
//     the token and an opaque RotationToken. A failed step ends the pass;
//     the whole pass is retried. On success LastRotatedDate and
//     NextRotationDate are set and AWSPENDING is removed from the new
//     AWSCURRENT version. RotateImmediately=false runs only testSecret
//     against a temporary AWSPENDING version holding the current value,
//     then removes it. CancelRotateSecret turns rotation off, labels
//     untouched.
//   - PutSecretValue records RotationToken (Server.Versions). VersionStages
//     given as an empty list is ValidationException (the API model's
//     minimum length is 1), not the same as leaving it out.
//   - Schedules in UTC: rate(N hours|days), cron(0 H DoM Mon DoW *),
//     AutomaticallyAfterDays, Duration; minimum 4 hours (for rate and cron:
//     a cron scheduling rotations closer together is refused), maximum 999
//     days. Parsing and windows are internal/schedule's, the same code the
//     auditor judges overdue rotations by. A
//     manual value change (PutSecretValue/UpdateSecret moving AWSCURRENT)
//     restarts an AutomaticallyAfterDays schedule.
//   - Resource policies (policy.go): PutResourcePolicy stores the document
//     as given and GetResourcePolicy returns it; DeleteResourcePolicy
//     removes it, also when there is none; ValidateResourcePolicy stores
//     nothing. A document that is not JSON with a Statement is
//     MalformedPolicyDocumentException; with BlockPublicPolicy a wildcard
//     principal without a Condition is PublicPolicyException. Policies are
//     not enforced.
//   - Quotas (quotas.go): at most 20 staging labels across all versions of
//     a secret (LimitExceededException, nothing changed); at most 50 tags
//     (LimitExceededException), keys 1–128 and values up to 256 characters
//     (ValidationException in the model's validation text), keys starting
//     with aws: (any case) refused by CreateSecret, TagResource and
//     UntagResource (InvalidParameterException); SetServiceTags sets them
//     as an AWS service (RDS) does on the secrets it manages. The texts of
//     the quota and prefix refusals are the stand-in's.
//   - 100 versions per secret; unlabeled versions at least 24 hours old are
//     pruned by the Clock to make room; otherwise the write fails with
//     LimitExceededException.
//
// # Choices where AWS behaviour is not recorded
//
//   - Retries: a rotation gets DefaultRotationAttempts (3) passes, waiting
//     DefaultRotationBackoff (2 s) before the second and doubling after; real
//     time, configurable in Options (NewTestServer uses 1 ms). The
//     testSecret-only check of RotateImmediately=false runs once.
//   - A pass whose steps all succeed but leave the new version without
//     AWSCURRENT fails at finishSecret (strict, so a rotator that never
//     promotes is caught).
//   - Events: RotationStarted per pass, RotationFailed per failed pass (with
//     attempt, step, errorType, errorMessage), RotationSucceeded once,
//     RotationAbandoned when a put abandons an unfinished rotation. The
//     testSecret-only check of RotateImmediately=false records
//     TestRotationStarted and TestRotationSucceeded or TestRotationFailed. With an event target
//     (Options.EventTarget, SetEventTarget; `rotor local serve
//     --events-to`) the server pushes them as they are recorded, in
//     EventBridge's CloudTrail envelope, asynchronously, in order, three
//     sends at most per event (eventbridge.go).
//   - The unfinished-rotation text is "A previous rotation isn't complete.
//     That rotation will be reattempted."; repeating RotateSecret with the
//     token of the rotation in flight answers it again; a token naming
//     another existing version is ResourceExistsException.
//   - UpdateSecretVersionStage: an unknown version id, removing a label from
//     a version that lacks it, removing AWSCURRENT without moving it, and
//     naming neither version are InvalidParameterException; a
//     RemoveFromVersionId that does not hold the label is ignored when the
//     label is free or already on MoveToVersionId; the recorded
//     RemoveFromVersionId text is used for every label. Secrets scheduled
//     for deletion refuse it like other writes. Moving AWSCURRENT onto a
//     version without a value (RotateSecret's placeholder before
//     createSecret stored one) is InvalidRequestException: accepting it
//     would leave the secret with no readable current value, and refusing
//     makes a rotator that promotes too early fail loudly in tests. Rotor
//     must not rely on the refusal in AWS. Other labels may go on the
//     placeholder.
//   - HTTPInvoker bounds each invocation by its Timeout, default
//     DefaultInvokeTimeout (15 minutes, Lambda's maximum); a function that
//     has not answered by then is a function error of type
//     Sandbox.Timedout, so its step fails and the pass is retried, as
//     Lambda reports a timed-out function.
//   - A secret's first version gets AWSCURRENT even when VersionStages names
//     other labels (docs say the first version always gets it).
//   - Pruning removes the oldest eligible versions, only as many as needed.
//   - UpdateSecret needs a ClientRequestToken only with a new value.
//   - Windows: rotation starts at the first Tick at or after the window's
//     start (AWS picks a random moment in the window). Day schedules start at
//     00:00 UTC of the base day plus N days; rate(N hours) windows open at
//     midnight UTC and every N hours after it, as the service opens them
//     (the first after the last rotation); cron at the next matching hour.
//     A Duration that runs into the next window or past the UTC day is
//     refused (InvalidParameterException), as documented. A Tick after the
//     window's end still rotates once. A failed scheduled rotation waits
//     for the next window; a due secret with an unfinished AWSPENDING has that rotation
//     reattempted with its token. Schedule errors are
//     InvalidParameterException.
//   - LastAccessedDate keeps the UTC date only. ListSecretVersionIds lists
//     newest first with KmsKeyIds ["DefaultEncryptionKey"]; ListSecrets sorts
//     by creation (asc default). Its NextToken (opaque, as the service's) is
//     a cursor on creation order, the position of the last secret returned,
//     not an offset into a filtered list: a page starts right after it, so
//     no page re-filters the secrets before it, a secret created between
//     pages shows up on a later page (asc), and a removed one never shifts
//     the rest (no secret skipped or listed twice). A snapshot of the
//     matches per token would have listed a stale set and held memory per
//     abandoned listing. Filters (list.go) as documented: prefix
//     matches, case-sensitive except description; "all" breaks the value
//     into words and matches any of them, not case-sensitively, at the start
//     of the name, description, a tag key or value, or one of their words;
//     "!" negates; values are ORed and filters ANDed; primary-region and
//     owning-service never match. Filter keys and values are validated by
//     events.SecretFilter.Validate (the API model's pattern), the rule
//     `rotor rotate --filter` and rotate-now check too. BatchGetSecretValue
//     takes MaxResults only with Filters (InvalidParameterException).
//   - DeleteSecret on a secret already scheduled (without force) is
//     InvalidRequestException; RestoreSecret of a live secret succeeds.
//   - SNS Publish to a topic never created answers NotFound (404).
//   - RDS master passwords (rds.go): ModifyDBInstance / ModifyDBCluster
//     with MasterUserPassword (other parameters are refused, not ignored)
//     check the password as RDS does (printable ASCII but '/', '@', '"' and
//     space; 8 to 41 characters for the MySQL family, to 128 otherwise),
//     then leave the change pending (status resetting-master-credentials,
//     PendingModifiedValues.MasterUserPassword "****") for
//     MasterPasswordOptions.Delay of real time and while its Apply hook
//     runs; ApplyImmediately is accepted and, as RDS documents for the
//     master password, makes no difference. Meanwhile another change is
//     InvalidDBInstanceState / InvalidDBClusterStateFault (400). An
//     instance that belongs to a cluster, or whose master password RDS
//     manages (MasterUserSecretARN), is InvalidParameterCombination; these
//     texts are the stand-in's. A pending change is not kept in the state
//     file.
//
// # Faults on demand
//
// AddFault (POST /_awslocal/faults, `rotor local serve --fault`) makes
// matching Secrets Manager calls, per operation and per secret, answer
// ThrottlingException (400, "Rate exceeded."), a 5xx InternalServiceError,
// or wait before answering, for the next N calls or a deterministic
// fraction of them (faults.go). Nothing else ever throttles.
//
// # Known differences
//
//   - No KMS, replication, or request-rate quotas (throttling happens only
//     when a fault is installed); resource policies are stored, never
//     enforced.
//   - Lambda: only functions registered with SetFunction exist; Invoke
//     supports the RequestResponse shape only.
//   - RDS and SNS cover only the calls named above; RDS describe calls do
//     not paginate. A master password change reaches a database only
//     through the test's Apply hook.
//
// Logging: one line per request with operation and secret identifier, and
// one per rotation event; never a secret value. Function error messages are
// recorded as the function wrote them.
package awslocal
