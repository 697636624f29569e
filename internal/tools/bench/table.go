package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// printTables writes the figures as plain-text tables.
func printTables(out io.Writer, r *Results) {
	fmt.Fprintf(out, "rotor bench, %s, %s, %d CPUs, load average %s\n", r.Date.Format("2006-01-02 15:04 MST"), r.GoVersion, r.CPUs, r.LoadAvg)
	if len(r.Rotations) > 0 {
		fmt.Fprintln(out, "\nPer rotation (steady state; Secrets Manager calls by operation, per rotation)")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "engine\tstrategy\trotations\tSM calls\tlogins\tstatements\tp50 ms\tp95 ms\tp99 ms\tcalls by operation")
		for _, f := range r.Rotations {
			var ops []string
			for op, n := range f.Calls {
				ops = append(ops, fmt.Sprintf("%s %.2g", op, n))
			}
			slices.Sort(ops)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t%s\n", f.Engine, f.Strategy, f.Rotations, f.CallTotal, f.Logins, f.Stmts, f.P50Ms, f.P95Ms, f.P99Ms, strings.Join(ops, ", "))
		}
		tw.Flush()
	}
	if len(r.ColdStart) > 0 {
		fmt.Fprintln(out, "\nCold start (exec to first next-event request; built as released, stripped)")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "function\tinit p50 ms\tinit min ms\tx hello\tpeak RSS MB\tbinary MB\tzip MB")
		var floor float64
		for _, f := range r.ColdStart {
			if f.Function == "hello" {
				floor = f.InitMsP50
			}
		}
		for _, f := range r.ColdStart {
			ratio := 0.0
			if floor > 0 {
				ratio = f.InitMsP50 / floor
			}
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.2f\t%.1f\t%.1f\t%.2f\n", f.Function, f.InitMsP50, f.InitMsMin, ratio, float64(f.PeakRSSKB)/1024, float64(f.BinaryByte)/1e6, float64(f.ZipBytes)/1e6)
		}
		tw.Flush()
	}
	if len(r.Fleet) > 0 {
		fmt.Fprintln(out, "\nFleet through rotate-now (PostgreSQL single-user, the stand-in, the rotator in-process)")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "secrets\twrite budget/s\ttotal s\trotations/s\tpeak writes/s (rolling)\tpeak writes/s (whole s)\tpeak RotateSecret/s\tpeak DB connections\tthrottles")
		for _, f := range r.Fleet {
			fmt.Fprintf(tw, "%d\t%g\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\n", f.Secrets, f.WritesPerSecond, f.TotalSeconds, f.RotationsPerSec, f.PeakWritesRolling, f.PeakWritesBucketed, f.PeakRotateSecret, f.PeakDBConnections, f.Throttles)
		}
		tw.Flush()
	}
	if len(r.StandIn) > 0 {
		fmt.Fprintln(out, "\nThe stand-in with a state file (ms per request)")
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		for _, f := range r.StandIn {
			fmt.Fprintf(tw, "%s\t%.3f\n", f.Benchmark, f.MsPerOp)
		}
		tw.Flush()
	}
}
