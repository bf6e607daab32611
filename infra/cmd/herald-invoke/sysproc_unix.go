//go:build unix && !linux

package main

import "syscall"

// sysProcAttr gives aws-lambda-rie (and the bootstrap it starts) its own
// process group, killed as a whole at the end.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
