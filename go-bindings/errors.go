package librune

/*
#include "rune.h"
*/
import "C"

import (
	"fmt"
	"syscall"
)

// Code is a librune result code (rune_result_t). The numbers are stable across versions.
type Code int

// The result codes of rune.h.
const (
	CodeOK               Code = C.RUNE_RESULT_OK
	CodeNullParameter    Code = C.RUNE_RESULT_NULL_PARAMETER
	CodeInvalidUTF8      Code = C.RUNE_RESULT_INVALID_UTF8
	CodeInvalidArgument  Code = C.RUNE_RESULT_INVALID_ARGUMENT
	CodeInvalidSpec      Code = C.RUNE_RESULT_INVALID_SPEC
	CodeNotFound         Code = C.RUNE_RESULT_NOT_FOUND
	CodeAlreadyExists    Code = C.RUNE_RESULT_ALREADY_EXISTS
	CodeInvalidState     Code = C.RUNE_RESULT_INVALID_STATE
	CodePermissionDenied Code = C.RUNE_RESULT_PERMISSION_DENIED
	CodeOS               Code = C.RUNE_RESULT_OS
	CodeEnclave          Code = C.RUNE_RESULT_ENCLAVE
	CodeInternal         Code = C.RUNE_RESULT_INTERNAL
	CodePanic            Code = C.RUNE_RESULT_PANIC
	CodeInvalidHandle    Code = C.RUNE_RESULT_INVALID_HANDLE
	CodeHook             Code = C.RUNE_RESULT_HOOK
)

// String returns the code's name in rune.h, such as "RUNE_RESULT_NOT_FOUND".
func (c Code) String() string {
	return C.GoString(C.rune_result_name(C.int32_t(c)))
}

// Error is an error reported by librune.
type Error struct {
	Code    Code
	Errno   syscall.Errno // the errno of the failed system call, or 0
	Message string        // what failed and why
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "rune: " + e.Code.String()
	}
	return "rune: " + e.Message
}

// Is reports whether target is an *Error with the same code, so that the sentinels below match
// any error of their kind: errors.Is(err, librune.ErrNotFound).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap returns the errno, if any, so that errors.Is(err, syscall.ESRCH) works.
func (e *Error) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// Sentinels, one per result code, for errors.Is.
var (
	ErrNullParameter    = &Error{Code: CodeNullParameter}
	ErrInvalidUTF8      = &Error{Code: CodeInvalidUTF8}
	ErrInvalidArgument  = &Error{Code: CodeInvalidArgument}
	ErrInvalidSpec      = &Error{Code: CodeInvalidSpec}
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrAlreadyExists    = &Error{Code: CodeAlreadyExists}
	ErrInvalidState     = &Error{Code: CodeInvalidState}
	ErrPermissionDenied = &Error{Code: CodePermissionDenied}
	ErrOS               = &Error{Code: CodeOS}
	ErrEnclave          = &Error{Code: CodeEnclave}
	ErrInternal         = &Error{Code: CodeInternal}
	ErrPanic            = &Error{Code: CodePanic}
	// ErrInvalidHandle is also returned by methods called after Close.
	ErrInvalidHandle = &Error{Code: CodeInvalidHandle}
	// ErrHook: a hook of the config failed or timed out.
	ErrHook = &Error{Code: CodeHook}
)

// check turns a librune result and its error object into a Go error, freeing the object.
func check(r C.rune_result_t, e *C.rune_error_t) error {
	if r == C.RUNE_RESULT_OK {
		C.rune_error_free(e)
		return nil
	}
	err := &Error{Code: Code(r)}
	if e != nil {
		err.Errno = syscall.Errno(C.rune_error_errno(e))
		err.Message = C.GoString(C.rune_error_message(e))
		C.rune_error_free(e)
	}
	return err
}

func errClosed(what string) error {
	return &Error{Code: CodeInvalidHandle, Message: what + " is closed"}
}

func errArg(format string, args ...interface{}) error {
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}
