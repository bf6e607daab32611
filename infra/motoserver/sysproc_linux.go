//go:build linux

package motoserver

import "syscall"

// sysProcAttr puts moto in its own process group (so Close can signal the
// whole group) and asks the kernel to kill it if this process dies first,
// so a crashed or killed test binary never leaks a moto_server.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
