package librune

/*
#include <stdint.h>
#include "rune.h"
rune_result_t rune_go_set_log(rune_context_t *ctx, uintptr_t handle, rune_error_t **err);
*/
import "C"

import (
	"runtime/cgo"
)

// LogLevel is the level of a message librune logs.
type LogLevel int

// Log levels, as rune_log_level_t.
const (
	LogError LogLevel = C.RUNE_LOG_LEVEL_ERROR
	LogWarn  LogLevel = C.RUNE_LOG_LEVEL_WARN
	LogInfo  LogLevel = C.RUNE_LOG_LEVEL_INFO
	LogDebug LogLevel = C.RUNE_LOG_LEVEL_DEBUG
)

//export runeGoLog
func runeGoLog(h C.uintptr_t, level C.int, msg *C.char) {
	if f, ok := cgo.Handle(h).Value().(func(LogLevel, string)); ok {
		f(LogLevel(level), C.GoString(msg))
	}
}

// SetLogger makes librune report what it does on this runtime (containers created, started,
// deleted; warnings such as failed poststop hooks) to f. f may be called from any
// goroutine, also concurrently; it must not call back into this Runtime. A later SetLogger
// replaces f. The logger is released by Close.
func (x *Runtime) SetLogger(f func(level LogLevel, msg string)) error {
	h := cgo.NewHandle(f)
	err := x.with(func(p *C.rune_context_t) error {
		var e *C.rune_error_t
		return check(C.rune_go_set_log(p, C.uintptr_t(h), &e), e)
	})
	if err != nil {
		h.Delete()
		return err
	}
	x.logMu.Lock()
	old := x.logger
	x.logger = &h
	x.logMu.Unlock()
	if old != nil {
		old.Delete()
	}
	return nil
}
