package librune

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#cgo LDFLAGS: -L${SRCDIR}/../target/release -lrune
#include <stdlib.h>
#include "rune.h"
*/
import "C"

import (
	"strings"
	"sync"
	"unsafe"
)

// ABIVersion returns the ABI version of the loaded librune (RUNE_ABI_VERSION).
func ABIVersion() int { return int(C.rune_abi_version()) }

// HeaderABIVersion is the ABI version of the rune.h these bindings were compiled with.
const HeaderABIVersion = C.RUNE_ABI_VERSION

// Version returns rune's version ("0.1.0").
func Version() string { return C.GoString(C.rune_version()) }

// cString copies s to C memory (free it with C.free); a NUL byte inside is refused, as C would
// silently cut the string there.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, errArg("%s contains a NUL byte", what)
	}
	return C.CString(s), nil
}

// cStrings is a C array of C strings.
type cStrings struct {
	ptrs []*C.char
	arr  **C.char
}

func newCStrings(items []string, what string) (*cStrings, error) {
	cs := &cStrings{}
	for _, s := range items {
		p, err := cString(s, what)
		if err != nil {
			cs.free()
			return nil, err
		}
		cs.ptrs = append(cs.ptrs, p)
	}
	if len(items) > 0 {
		size := C.size_t(len(items)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))
		cs.arr = (**C.char)(C.malloc(size))
		copy(unsafe.Slice(cs.arr, len(items)), cs.ptrs)
	}
	return cs, nil
}

func (cs *cStrings) len() C.size_t { return C.size_t(len(cs.ptrs)) }

func (cs *cStrings) free() {
	for _, p := range cs.ptrs {
		C.free(unsafe.Pointer(p))
	}
	if cs.arr != nil {
		C.free(unsafe.Pointer(cs.arr))
	}
}

// goString takes a string returned by librune (caller-owned) and frees it.
func goString(p *C.char) string {
	s := C.GoString(p)
	C.rune_string_free(p)
	return s
}

// handle reference-counts a C handle so that Close frees it only once no call is using it.
type handle struct {
	mu     sync.Mutex
	ptr    unsafe.Pointer
	refs   int
	closed bool
	free   func(unsafe.Pointer)
	what   string
}

func (h *handle) acquire() (unsafe.Pointer, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errClosed(h.what)
	}
	h.refs++
	return h.ptr, nil
}

func (h *handle) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refs--
	h.freeIfDone()
}

func (h *handle) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.freeIfDone()
}

func (h *handle) freeIfDone() {
	if h.closed && h.refs == 0 && h.ptr != nil {
		h.free(h.ptr)
		h.ptr = nil
	}
}

// setString passes a non-empty v to a librune setter (an empty v leaves the option unset).
func setString(v, what string, set func(*C.char, **C.rune_error_t) C.rune_result_t) error {
	if v == "" {
		return nil
	}
	s, err := cString(v, what)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(s))
	var e *C.rune_error_t
	return check(set(s, &e), e)
}
