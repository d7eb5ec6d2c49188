/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convention=spec|occlum|wamr: the skeleton can follow the PAL conventions
 * of the two real enclave runtimes instead of its own, so that a host can
 * be tried against each of them without SGX:
 *
 *   spec    negative errno on failure; pal_exec stores the exit code
 *   occlum  -1 and errno on failure; pal_exec stores a wait(2) status;
 *           pal_kill takes pid > 0 or -1, and SIGKILL or SIGTERM only;
 *           a second pal_init fails with EEXIST
 *   wamr    only pal_init reports a failure, by returning 1; the others
 *           return 0 (skeleton.c: pal_create_process runs the process to
 *           its end and leaves *pid alone, pal_exec and pal_kill do
 *           nothing)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "skeleton.h"

static const char *const conv_names[CONV_COUNT] = {
	[CONV_SPEC] = "spec",
	[CONV_OCCLUM] = "occlum",
	[CONV_WAMR] = "wamr",
};

volatile int skel_convention = CONV_SPEC;
volatile int skel_errno_style;

/* enum skel_convention, or -1 if name is none. */
int conv_parse(const char *name)
{
	for (int i = 0; i < CONV_COUNT; i++)
		if (!strcmp(name, conv_names[i]))
			return i;
	return -1;
}

/* What a call that ends with err (0 or an errno) returns. */
int conv_ret(enum skel_call call, int err)
{
	if (!err)
		return 0;
	switch (skel_convention) {
	case CONV_OCCLUM:
		errno = err;
		return -1;
	case CONV_WAMR:
		if (call == CALL_INIT)
			return 1;
		skel_msg(LOG_DEBUG, "%s: error %s not reported (convention=wamr)",
			 skel_call_names[call],
			 skel_errname(err) ? skel_errname(err) : "?");
		return 0;
	default:
		if (skel_errno_style) {
			errno = err;
			return -1;
		}
		return -err;
	}
}

/* What pal_exec stores for a wait status (wamr: only traced). */
int conv_exit_value(int status)
{
	if (skel_convention == CONV_OCCLUM)
		return status;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/* The error of a pal_init on an initialized instance. */
int conv_busy_error(void)
{
	return skel_convention == CONV_OCCLUM ? EEXIST : EBUSY;
}

/* 0, or EINVAL for arguments the convention refuses. */
int conv_check_create(const pal_create_process_args *args)
{
	if (!args || !args->path)
		return EINVAL;
	if (!args->pid && skel_convention != CONV_WAMR)
		return EINVAL; /* WAMR never writes it */
	if (!args->argv && skel_convention == CONV_OCCLUM)
		return EINVAL;
	return 0;
}

/* 0, or the errno of a pal_kill the convention refuses. */
int conv_check_kill(int pid, int sig)
{
	if (skel_convention != CONV_OCCLUM)
		return 0;
	if (pid == 0)
		return EPERM;
	if (pid < -1)
		return EINVAL;
	if (sig != SIGKILL && sig != SIGTERM)
		return EINVAL;
	return 0;
}
