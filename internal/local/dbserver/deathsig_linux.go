package dbserver

import "syscall"

// setDeathSignal asks Linux to send sig to the child when the thread that
// started it dies, so a crashed test run leaves no server behind.
func setDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) {
	attr.Pdeathsig = sig
}
