// Package schedule is the one reading of Secrets Manager rotation
// schedules in rotor: the local stand-in (internal/local/awslocal) uses it to run
// rotations, the auditor (internal/alerting) to decide when one is overdue,
// so the two cannot disagree about when a window opens or closes.
//
// It owns parsing RotationRules (AutomaticallyAfterDays, ScheduleExpression,
// Duration) by the documented rules, the start of the next rotation window,
// and the window's end. All times are UTC. It has no dependencies beyond
// the standard library and keeps no state.
//
// On failure Parse returns an *Error whose text says what is wrong with the
// rules, in the words of Secrets Manager's own validation messages where
// those are known; it never returns a partial Schedule.
package schedule
