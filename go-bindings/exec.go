package rune

/*
#include <stdlib.h>
#include "rune.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
)

// User is a uid and gid inside the container.
type User struct {
	UID, GID uint32
}

// ExecOptions says what to run in a container (the rune CLI's exec flags). Set Args, or
// Process; the other fields apply on top of the container's own process (or of Process).
type ExecOptions struct {
	// Args is the command; Args[0] is the program.
	Args []string
	// Env holds KEY=VALUE entries added to the process's environment.
	Env []string
	// Cwd is the working directory, an absolute path in the container.
	Cwd string
	// User runs the process as this uid and gid.
	User *User
	// Terminal gives the process a pty, whose master is sent to ConsoleSocket.
	Terminal      bool
	ConsoleSocket string
	// Detach lets librune reap the process; the returned Process cannot be waited for.
	Detach bool
	// PidFile receives the process's pid.
	PidFile string
	// PreserveFDs passes the caller's fds 3 .. 3+PreserveFDs-1 to the process.
	PreserveFDs uint32
	// Process is a whole OCI process object (JSON), instead of the container's own process.
	Process []byte
}

// Process is a process started by Container.Exec (or, for Wait, any child of this process).
type Process struct {
	// Pid is the process's pid (in this process's pid namespace).
	Pid int

	detached bool
	waitOnce sync.Once
	waitDone chan struct{}
	waitCode int
	waitErr  error
}

// Exec runs another process in the container (rune exec) and returns once it runs. Unless
// opts.Detach is set, the process is a child of this process: Wait for it.
func (c *Container) Exec(opts *ExecOptions) (*Process, error) {
	if opts == nil {
		return nil, errArg("no exec options")
	}
	eo, err := opts.toC()
	if err != nil {
		return nil, err
	}
	defer C.rune_exec_options_free(eo)
	var pid C.int32_t
	err = c.with(func(p *C.rune_container_t) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var e *C.rune_error_t
		return check(C.rune_container_exec(p, eo, &pid, &e), e)
	})
	if err != nil {
		return nil, err
	}
	return &Process{Pid: int(pid), detached: opts.Detach}, nil
}

// Wait waits for the process to exit and returns its exit code (128+N when killed by signal
// N). When ctx is done first, Wait returns ctx.Err(); the process is still reaped in the
// background, and a later Wait returns its code.
func (p *Process) Wait(ctx context.Context) (int, error) {
	if p.detached {
		return -1, &Error{Code: CodeInvalidState, Message: "a detached process cannot be waited for"}
	}
	p.waitOnce.Do(func() {
		p.waitDone = make(chan struct{})
		go func() {
			var code C.int32_t
			var e *C.rune_error_t
			p.waitErr = check(C.rune_process_wait(C.int32_t(p.Pid), &code, &e), e)
			p.waitCode = int(code)
			close(p.waitDone)
		}()
	})
	select {
	case <-p.waitDone:
		return p.waitCode, p.waitErr
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

func (o *ExecOptions) toC() (*C.rune_exec_options_t, error) {
	var eo *C.rune_exec_options_t
	var e *C.rune_error_t
	if err := check(C.rune_exec_options_new(&eo, &e), e); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			C.rune_exec_options_free(eo)
		}
	}()
	list := func(v []string, what string, set func(**C.char, C.size_t, **C.rune_error_t) C.rune_result_t) error {
		if len(v) == 0 {
			return nil
		}
		cs, err := newCStrings(v, what)
		if err != nil {
			return err
		}
		defer cs.free()
		var e *C.rune_error_t
		return check(set(cs.arr, cs.len(), &e), e)
	}
	steps := []func() error{
		func() error {
			if len(o.Process) == 0 {
				return nil
			}
			return setString(string(o.Process), "process", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_process_json(eo, s, e)
			})
		},
		func() error {
			return list(o.Args, "args", func(a **C.char, n C.size_t, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_args(eo, a, n, e)
			})
		},
		func() error {
			return list(o.Env, "env", func(a **C.char, n C.size_t, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_env(eo, a, n, e)
			})
		},
		func() error {
			return setString(o.Cwd, "cwd", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_cwd(eo, s, e)
			})
		},
		func() error {
			if o.User == nil {
				return nil
			}
			var e *C.rune_error_t
			return check(C.rune_exec_options_set_user(eo, C.uint32_t(o.User.UID), C.uint32_t(o.User.GID), &e), e)
		},
		func() error {
			if !o.Terminal {
				return nil
			}
			var e *C.rune_error_t
			return check(C.rune_exec_options_set_terminal(eo, C.bool(true), &e), e)
		},
		func() error {
			return setString(o.ConsoleSocket, "console socket", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_console_socket(eo, s, e)
			})
		},
		func() error {
			var e *C.rune_error_t
			return check(C.rune_exec_options_set_detach(eo, C.bool(o.Detach), &e), e)
		},
		func() error {
			return setString(o.PidFile, "pid file", func(s *C.char, e **C.rune_error_t) C.rune_result_t {
				return C.rune_exec_options_set_pid_file(eo, s, e)
			})
		},
		func() error {
			var e *C.rune_error_t
			return check(C.rune_exec_options_set_preserve_fds(eo, C.uint32_t(o.PreserveFDs), &e), e)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	ok = true
	return eo, nil
}
