//go:build !linux

package ollamatest

import (
	"errors"
	"syscall"
)

// sysProcAttr puts the server in its own process group, so killGroup also
// ends the runner processes it starts.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup sends sig to the process group led by pid.
func killGroup(pid int, sig syscall.Signal) error { return syscall.Kill(-pid, sig) }

// children is only implemented on Linux.
func children(int) ([]int, error) {
	return nil, errors.New("listing runner processes needs Linux /proc")
}
