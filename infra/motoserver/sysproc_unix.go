//go:build unix && !linux

package motoserver

import "syscall"

// sysProcAttr puts moto in its own process group so Close can signal the
// whole group. Outside Linux there is no parent-death signal: a test binary
// that is SIGKILLed can leak the server.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
