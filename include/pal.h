/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pal.h - the Enclave Runtime PAL API, versions 1 to 3.
 *
 * An enclave runtime is a shared library that exports the pal_* symbols
 * declared below. rune loads it with dlopen() and drives it through them.
 *
 * Which prototypes this header declares depends on PAL_VERSION, which the
 * includer may define before including it (1, 2 or 3; default 3):
 *
 *     #define PAL_VERSION 2
 *     #include "pal.h"
 *
 * The function pointer typedefs (pal_init_v1_fn, pal_exec_v2_fn, ...) are
 * always declared, for every version, so that a loader can use them without
 * setting PAL_VERSION. Define PAL_NO_PROTOTYPES to get only the types, the
 * typedefs and the macros (what a loader needs).
 *
 * Symbols by version ("-" = not part of that version):
 *
 *     symbol                 v1          v2          v3
 *     pal_get_version        optional    required    required
 *     pal_init               pal_attr_t  pal_attr_t  pal_attr_v3_t
 *     pal_create_process     -           required    required
 *     pal_exec               v1 form     args form   args form
 *     pal_kill               -           required    required
 *     pal_destroy            required    required    required
 *     pal_get_local_report   -           -           required
 *
 * A library without pal_get_version is version 1. rune accepts any
 * version from PAL_API_VERSION_MIN to PAL_API_VERSION_MAX and refuses a
 * higher one; a required symbol that is missing is an error naming it.
 *
 * Where the calls happen: the library is loaded from a host path by the
 * container's init process before it switches into the container's root
 * ("loaded in host, launched in container"). Libraries the PAL dlopen()s
 * itself must be loaded before that switch too (link them, or load them
 * from a constructor): pal_init runs inside the container. That process
 * stays alive as the enclave's host process ("runelet") and makes every
 * pal_* call. pal_init runs after the container's own set-up (mounts,
 * user, capabilities, seccomp), so the PAL's system calls are subject to
 * the container's seccomp profile.
 *
 * Return convention, all calls except pal_get_version:
 *     0                 success
 *     negative errno    failure, e.g. -EINVAL (the original skeleton's way)
 *     -1, errno set     failure (the Occlum and WAMR way)
 * rune accepts both: it sets errno to 0 before each call; on -1 with errno
 * non-zero it reports errno, otherwise it reports -ret as the errno value.
 *
 * Layouts are plain C with natural alignment (not packed). spec_v2.md
 * shows `char *argv[]` members and __attribute__((packed)); every real
 * runtime uses `char **` and natural alignment, as here. On x86-64:
 *     sizeof(pal_attr_t) 16, sizeof(pal_attr_v3_t) 32,
 *     sizeof(pal_stdio_fds) 12, sizeof(pal_create_process_args) 40,
 *     sizeof(pal_exec_args) 16.
 */
#ifndef RUNE_PAL_H
#define RUNE_PAL_H

#include <stdint.h>

/* The PAL API versions this header describes. */
#define PAL_API_VERSION_MIN 1
#define PAL_API_VERSION_MAX 3

#ifndef PAL_VERSION
#define PAL_VERSION PAL_API_VERSION_MAX
#endif

#if PAL_VERSION < PAL_API_VERSION_MIN || PAL_VERSION > PAL_API_VERSION_MAX
#error "PAL_VERSION must be 1, 2 or 3"
#endif

/* Special pid values for pal_kill(). */
#define PAL_KILL_CURRENT_PROCESS 0  /* the current (most recent) process */
#define PAL_KILL_ALL_PROCESSES (-1) /* every live process */

/* pal_attr_v3_t.fd when there is no pre-created enclave. */
#define PAL_ATTR_V3_NO_ENCLAVE_FD (-1)

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Attributes for pal_init() (v1, v2; embedded in pal_attr_v3_t for v3).
 *
 * args: the enclave runtime's own argument string: rune takes the
 *   annotation enclave.runtime.args (or env ENCLAVE_RUNTIME_ARGS), a
 *   comma-separated list, and passes its items joined by single spaces.
 *   May be empty. Occlum reads it as its instance directory, resolved
 *   against the working directory inside the container.
 * log_level: enclave.runtime.loglevel (or env ENCLAVE_RUNTIME_LOGLEVEL):
 *   one of "trace", "debug", "info", "warning", "error", "fatal", "panic",
 *   "off"; rune passes "info" for an unknown or missing level.
 * Both strings are owned by rune and valid only during the call.
 */
typedef struct pal_attr_t {
	const char *args;
	const char *log_level;
} pal_attr_t;

/**
 * Attributes for pal_init() in v3.
 *
 * attr_v1: as for v1/v2.
 * fd, addr: file descriptor and base address of a pre-created enclave
 *   taken from an enclave pool; fd is -1 (PAL_ATTR_V3_NO_ENCLAVE_FD) and
 *   addr 0 when there is none, and the PAL creates its own enclave.
 */
typedef struct pal_attr_v3_t {
	pal_attr_t attr_v1;
	int fd;
	uint64_t addr;
} pal_attr_v3_t;

/**
 * The stdin, stdout and stderr file descriptors for a payload process,
 * open in the calling process. The PAL makes them the payload's 0, 1, 2.
 * (The member names are the spec's; they work with glibc's <stdio.h>,
 * whose stdin/stdout/stderr macros expand to themselves.)
 */
typedef struct pal_stdio_fds {
	int stdin, stdout, stderr;
} pal_stdio_fds;

/**
 * Arguments of pal_create_process() (v2+).
 *
 * path: the program to run, as the enclave runtime sees it (for a library
 *   OS, a path in its own file system).
 * argv: NULL-terminated argument vector, argv[0] included.
 * env:  NULL-terminated environment, "NAME=value" strings; rune removes
 *   the ENCLAVE_* variables it consumed.
 * stdio: the payload's stdio fds.
 * pid: out: on success the PAL stores the new process's id here: an id in
 *   the PAL's own namespace, used only as the handle for pal_exec() and
 *   pal_kill().
 * All pointers are owned by rune and valid only during the call.
 */
typedef struct pal_create_process_args {
	char *path;
	char **argv;
	char **env;
	pal_stdio_fds *stdio;
	int *pid;
} pal_create_process_args;

/**
 * Arguments of pal_exec() (v2+).
 *
 * pid: an id returned by pal_create_process().
 * exit_value: out: the process's exit value, see pal_exec().
 */
typedef struct pal_exec_args {
	int pid;
	int *exit_value;
} pal_exec_args;

/*
 * Function pointer types of every symbol in every version, for loaders
 * (dlsym). The _vN_ suffix is the PAL API version whose signature it is.
 */
typedef int (*pal_get_version_fn)(void);
typedef int (*pal_get_version_v1_fn)(void);
typedef int (*pal_get_version_v2_fn)(void);
typedef int (*pal_get_version_v3_fn)(void);

typedef int (*pal_init_v1_fn)(pal_attr_t *attr);
typedef int (*pal_init_v2_fn)(pal_attr_t *attr);
typedef int (*pal_init_v3_fn)(pal_attr_v3_t *attr);

typedef int (*pal_create_process_v2_fn)(pal_create_process_args *args);
typedef int (*pal_create_process_v3_fn)(pal_create_process_args *args);

typedef int (*pal_exec_v1_fn)(char *path, char *argv[], pal_stdio_fds *stdio,
			      int *exit_code);
typedef int (*pal_exec_v2_fn)(pal_exec_args *args);
typedef int (*pal_exec_v3_fn)(pal_exec_args *args);

typedef int (*pal_kill_v2_fn)(int pid, int sig);
typedef int (*pal_kill_v3_fn)(int pid, int sig);

typedef int (*pal_destroy_v1_fn)(void);
typedef int (*pal_destroy_v2_fn)(void);
typedef int (*pal_destroy_v3_fn)(void);

typedef int (*pal_get_local_report_v3_fn)(void *target_info,
					  int target_info_len, void *report,
					  int *report_len);

#ifndef PAL_NO_PROTOTYPES

/**
 * pal_get_version - the PAL API version the library implements.
 *
 * Called by: rune's init process, right after dlopen(), before pal_init.
 * Required from v2 on; a library without it is version 1.
 * Returns: the version (1, 2 or 3). rune refuses a version higher than
 *   PAL_API_VERSION_MAX and a version < 1.
 */
int pal_get_version(void);

/**
 * pal_init - initialize the enclave runtime: create the enclave (or take
 * over the pre-created one in v3), set up the library OS.
 *
 * Called by: the container's init process ("runelet"), once, inside the
 *   container after its set-up (mounts, user, capabilities, seccomp),
 *   during `rune create` (and `run`), before any other call but
 *   pal_get_version.
 * Returns: 0, or failure (negative errno, or -1 with errno); the
 *   container then fails to start.
 */
#if PAL_VERSION >= 3
int pal_init(pal_attr_v3_t *attr);
#else
int pal_init(pal_attr_t *attr);
#endif

#if PAL_VERSION >= 2
/**
 * pal_create_process - create a process in the enclave runtime, without
 * starting it; pal_exec() starts it.
 *
 * Called by: the runelet, for the container's entrypoint on `rune start`,
 *   and for each `rune exec` (the exec'ing process hands its stdio fds to
 *   the runelet over a unix socket; the runelet makes the call from a
 *   thread of its own). May be called concurrently with pal_exec() and
 *   pal_kill() on other processes, from other threads.
 * The fds in args->stdio belong to the caller, which may close them once
 *   the call has returned: the PAL duplicates what it needs.
 * Returns: 0 and *args->pid set, or failure.
 */
int pal_create_process(pal_create_process_args *args);

/**
 * pal_exec - start a process created by pal_create_process() and wait for
 * it to end.
 *
 * Called by: the runelet, right after pal_create_process(), from the thread
 *   that serves that process (entrypoint or `exec` session). Several
 *   pal_exec() calls may be in progress at once, from different threads,
 *   each on its own process; pal_kill() and pal_create_process() may be
 *   called meanwhile from other threads.
 * Blocks until the process has ended; then stores its exit value in
 *   *args->exit_value:
 *     - the exit code, as WEXITSTATUS would give it (0-255), when it exited;
 *     - 128 + N when it was killed by signal N (137 for SIGKILL).
 *   rune takes a value from 0 to 255 as that exit code. A value > 255 is
 *   taken as a wait(2) status (as Occlum documents its exit_value): rune
 *   decodes it with WIFEXITED/WEXITSTATUS (exit code) and
 *   WIFSIGNALED/WTERMSIG (128 + signal). A negative value is invalid.
 *   Note that a wait(2) status for "killed by signal N" is N itself, which
 *   rune cannot tell from exit code N: return 128 + N.
 * Returns: 0 when the process ran (whatever its exit value), or failure
 *   when it could not be started or waited for.
 */
int pal_exec(pal_exec_args *args);

/**
 * pal_kill - send signal sig to a process of the enclave runtime.
 *
 * pid > 0: the process pal_create_process() returned as pid;
 *   0 (PAL_KILL_CURRENT_PROCESS): the current process (the most recently
 *   created one still alive); -1 (PAL_KILL_ALL_PROCESSES): all of them.
 * Called by: the runelet, to pass on signals it receives (`rune kill`, or
 *   a signal sent to an `exec` process, forwarded as a kill request), from
 *   any thread, possibly while pal_exec() is waiting on the target.
 * A process created but not yet started may be signalled.
 * Occlum only allows SIGKILL and SIGTERM.
 * Returns: 0, or failure (-ESRCH style for an unknown pid).
 */
int pal_kill(int pid, int sig);
#else
/**
 * pal_exec (v1) - run the program at path with argv (NULL-terminated) and
 * stdio, wait for it to end and store its exit value in *exit_code.
 *
 * Called by: the runelet, on `rune start` for the entrypoint and for each
 *   `rune exec`, possibly from several threads at once. There is no
 *   pal_kill in v1.
 * The exit value convention is the one described for the v2 pal_exec().
 * Returns: 0 when the program ran, or failure; spec_v1.md lists -ENOENT,
 *   -EACCES, -ENOEXEC, -ENOMEM, -EINVAL.
 */
int pal_exec(char *path, char *argv[], pal_stdio_fds *stdio, int *exit_code);
#endif

/**
 * pal_destroy - destroy the enclave runtime instance: end the processes
 * still running, release the enclave and everything pal_init() set up.
 *
 * Called by: the runelet, once, when the container's entrypoint has ended
 *   (then it exits with the entrypoint's exit code), and when the
 *   container is deleted while the runelet is still alive (spec.md lists
 *   pal_destroy under `delete`). Other threads
 *   may still be blocked in pal_exec(): the PAL must end their processes so
 *   that those calls return. No call but pal_init may follow.
 * Returns: 0, or failure.
 */
int pal_destroy(void);

#if PAL_VERSION >= 3
/**
 * pal_get_local_report - produce a local attestation report of the
 * enclave, targeted at the enclave described by target_info (for SGX: a
 * sgx_target_info_t in, a sgx_report_t out).
 *
 * target_info, target_info_len: the target; NULL with length 0 is allowed.
 * report: buffer of *report_len bytes.
 * report_len: in: the buffer size; out: the size of the report written.
 * Called by: the runelet, after pal_init(), to obtain a report for
 *   attestation (enclave.attestation.* settings).
 * Returns: 0, or failure (e.g. -ENOSPC style when the buffer is too small).
 */
int pal_get_local_report(void *target_info, int target_info_len,
			 void *report, int *report_len);
#endif

#endif /* PAL_NO_PROTOTYPES */

#ifdef __cplusplus
}
#endif

#endif /* RUNE_PAL_H */
