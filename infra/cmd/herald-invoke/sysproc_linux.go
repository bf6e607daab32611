package main

import "syscall"

// sysProcAttr gives aws-lambda-rie (and the bootstrap it starts) its own
// process group, killed as a whole at the end, and has the kernel kill rie
// if this command dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
