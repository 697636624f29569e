//go:build !linux

package dbserver

import "syscall"

// setDeathSignal does nothing where the kernel has no parent-death signal
// (macOS, where the released `rotor` CLI also runs): there a server whose
// owner was killed keeps running until stopped by hand.
func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}
