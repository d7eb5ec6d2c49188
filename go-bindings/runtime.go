package librune

/*
#include <stdlib.h>
#include "rune.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Runtime is a librune context (rune_context_t): the state root holding one directory per
// container, and the rune binary run as `rune init`. Runtimes with the same root see the same
// containers, also those of the rune CLI. Safe for concurrent use.
type Runtime struct {
	h *handle
	// logger is the cgo handle of the SetLogger function, released by Close.
	logMu  sync.Mutex
	logger *cgo.Handle
}

// NewRuntime makes a runtime on state root root ("" means /run/rune). The environment
// variables RUNE_INIT_BINARY and PATH are read now, once.
func NewRuntime(root string) (*Runtime, error) {
	var croot *C.char
	if root != "" {
		var err error
		if croot, err = cString(root, "root"); err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(croot))
	}
	var ctx *C.rune_context_t
	var e *C.rune_error_t
	if err := check(C.rune_context_new(croot, &ctx, &e), e); err != nil {
		return nil, err
	}
	x := &Runtime{h: &handle{
		ptr:  unsafe.Pointer(ctx),
		what: "rune runtime",
		free: func(p unsafe.Pointer) { C.rune_context_free((*C.rune_context_t)(p)) },
	}}
	runtime.SetFinalizer(x, (*Runtime).Close)
	return x, nil
}

// Close frees the runtime. Containers made through it stay usable. Closing twice is harmless.
func (x *Runtime) Close() error {
	x.h.close()
	x.logMu.Lock()
	if x.logger != nil {
		x.logger.Delete()
		x.logger = nil
	}
	x.logMu.Unlock()
	return nil
}

// with runs f with the C handle, holding a reference for the call.
func (x *Runtime) with(f func(*C.rune_context_t) error) error {
	p, err := x.h.acquire()
	if err != nil {
		return err
	}
	defer x.h.release()
	return f((*C.rune_context_t)(p))
}

// SetInitBinary sets the rune binary executed as `rune init` for this runtime's containers
// (instead of $RUNE_INIT_BINARY, libexec or PATH). It must be an executable file.
func (x *Runtime) SetInitBinary(path string) error {
	cpath, err := cString(path, "path")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cpath))
	return x.with(func(c *C.rune_context_t) error {
		var e *C.rune_error_t
		return check(C.rune_context_set_init_binary(c, cpath, &e), e)
	})
}

// InitBinary returns the rune binary Create would use, or an ErrNotFound error naming every
// place it looked.
func (x *Runtime) InitBinary() (string, error) {
	var out string
	err := x.with(func(c *C.rune_context_t) error {
		var p *C.char
		var e *C.rune_error_t
		if err := check(C.rune_context_init_binary(c, &p, &e), e); err != nil {
			return err
		}
		out = goString(p)
		return nil
	})
	return out, err
}

// Delete deletes container id: its processes, cgroup and state (rune delete), as
// Container.Delete does with a handle. An ErrNotFound error when there is no such container.
func (x *Runtime) Delete(id string, force bool) error {
	cid, err := cString(id, "id")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cid))
	return x.with(func(c *C.rune_context_t) error {
		var e *C.rune_error_t
		return check(C.rune_context_delete(c, cid, C.bool(force), &e), e)
	})
}

// List returns the state of every container under the runtime's root (rune list); nil when
// there is none.
func (x *Runtime) List() ([]State, error) {
	var out []State
	err := x.with(func(c *C.rune_context_t) error {
		var p *C.char
		var e *C.rune_error_t
		if err := check(C.rune_context_list_json(c, &p, &e), e); err != nil {
			return err
		}
		return json.Unmarshal([]byte(goString(p)), &out)
	})
	return out, err
}
