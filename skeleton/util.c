/* SPDX-License-Identifier: Apache-2.0 */
/* Strings, messages, options and the trace file of the skeleton. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "skeleton.h"

const char *const skel_call_names[CALL_COUNT] = {
	[CALL_INIT] = "pal_init",
	[CALL_CREATE_PROCESS] = "pal_create_process",
	[CALL_EXEC] = "pal_exec",
	[CALL_KILL] = "pal_kill",
	[CALL_DESTROY] = "pal_destroy",
	[CALL_GET_LOCAL_REPORT] = "pal_get_local_report",
};

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->oom = 0;
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

static int sb_grow(struct strbuf *sb, size_t extra)
{
	size_t cap;
	char *p;

	if (sb->oom)
		return -1;
	if (sb->len + extra + 1 <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 128;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	p = realloc(sb->buf, cap);
	if (!p) {
		sb->oom = 1;
		return -1;
	}
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

static void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || sb_grow(sb, (size_t)n) < 0)
		return;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

/* Backslash and control characters are escaped, so a line stays a line. */
void sb_add_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			sb_addf(sb, "\\\\");
		else if (c == '\n')
			sb_addf(sb, "\\n");
		else if (c == '\t')
			sb_addf(sb, "\\t");
		else if (c < 0x20 || c == 0x7f)
			sb_addf(sb, "\\x%02x", c);
		else
			sb_addf(sb, "%c", c);
	}
}

/* [a,b,c], or null */
void sb_add_argv(struct strbuf *sb, char *const argv[])
{
	if (!argv) {
		sb_addf(sb, "null");
		return;
	}
	sb_addf(sb, "[");
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			sb_addf(sb, ",");
		sb_add_escaped(sb, argv[i]);
	}
	sb_addf(sb, "]");
}

const char *sb_str(struct strbuf *sb)
{
	if (sb->oom || !sb->buf)
		return "(out of memory)";
	return sb->buf;
}

static const struct {
	int num;
	const char *name;
	const char *desc;
} errtab[] = {
	{ EPERM, "EPERM", "Operation not permitted" },
	{ ENOENT, "ENOENT", "No such file or directory" },
	{ ESRCH, "ESRCH", "No such process" },
	{ EINTR, "EINTR", "Interrupted system call" },
	{ EIO, "EIO", "Input/output error" },
	{ E2BIG, "E2BIG", "Argument list too long" },
	{ ENOEXEC, "ENOEXEC", "Exec format error" },
	{ EBADF, "EBADF", "Bad file descriptor" },
	{ ECHILD, "ECHILD", "No child processes" },
	{ EAGAIN, "EAGAIN", "Resource temporarily unavailable" },
	{ ENOMEM, "ENOMEM", "Cannot allocate memory" },
	{ EACCES, "EACCES", "Permission denied" },
	{ EFAULT, "EFAULT", "Bad address" },
	{ EBUSY, "EBUSY", "Device or resource busy" },
	{ EEXIST, "EEXIST", "File exists" },
	{ ENOTDIR, "ENOTDIR", "Not a directory" },
	{ EISDIR, "EISDIR", "Is a directory" },
	{ EINVAL, "EINVAL", "Invalid argument" },
	{ ENFILE, "ENFILE", "Too many open files in system" },
	{ EMFILE, "EMFILE", "Too many open files" },
	{ ETXTBSY, "ETXTBSY", "Text file busy" },
	{ ENOSPC, "ENOSPC", "No space left on device" },
	{ EROFS, "EROFS", "Read-only file system" },
	{ EPIPE, "EPIPE", "Broken pipe" },
	{ ENAMETOOLONG, "ENAMETOOLONG", "File name too long" },
	{ ENOSYS, "ENOSYS", "Function not implemented" },
	{ ELOOP, "ELOOP", "Too many levels of symbolic links" },
	{ ELIBBAD, "ELIBBAD", "Accessing a corrupted shared library" },
};

/* Both are async-signal-safe (used between fork and execve). */
const char *skel_errname(int err)
{
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].num == err)
			return errtab[i].name;
	return NULL;
}

const char *skel_errdesc(int err)
{
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].num == err)
			return errtab[i].desc;
	return "Unknown error";
}

volatile int skel_log_level = LOG_INFO;

/* "skeleton: <message>\n" on stderr, in one write, if level is enabled. */
void skel_msg(int level, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;
	ssize_t n;

	if (level < skel_log_level || skel_log_level == LOG_OFF)
		return;
	sb_init(&sb);
	sb_addf(&sb, "skeleton: ");
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	sb_addf(&sb, "\n");
	if (!sb.oom) {
		do
			n = write(STDERR_FILENO, sb.buf, sb.len);
		while (n < 0 && errno == EINTR);
	}
	sb_free(&sb);
}

static const char *const level_names[] = {
	[LOG_TRACE] = "trace", [LOG_DEBUG] = "debug", [LOG_INFO] = "info",
	[LOG_WARNING] = "warning", [LOG_ERROR] = "error",
	[LOG_FATAL] = "fatal", [LOG_PANIC] = "panic", [LOG_OFF] = "off",
};

/* 0 if s names a level; NULL or "" is info. */
int skel_parse_log_level(const char *s, int *level)
{
	*level = LOG_INFO;
	if (!s || !*s)
		return 0;
	for (int i = 0; i <= LOG_OFF; i++) {
		if (!strcasecmp(s, level_names[i])) {
			*level = i;
			return 0;
		}
	}
	if (!strcasecmp(s, "warn")) {
		*level = LOG_WARNING;
		return 0;
	}
	return -1;
}

static int parse_call(const char *name)
{
	for (int i = 0; i < CALL_COUNT; i++)
		if (!strcmp(name, skel_call_names[i]))
			return i;
	return -1;
}

/*
 * Space-separated options: trace=FILE fail=CALL crash=CALL errno-style
 * convention=NAME. Unknown ones are warned about and ignored. Returns 0,
 * ENOMEM, or EINVAL for an unknown convention (after parsing the rest, so
 * that errno-style still counts; opt is freed then).
 */
int skel_parse_options(const char *args, struct skel_options *opt)
{
	char *copy, *tok, *save = NULL;
	int err = 0;

	memset(opt, 0, sizeof(*opt));
	if (!args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return ENOMEM;
	for (tok = strtok_r(copy, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(tok, "trace=", 6) && tok[6]) {
			free(opt->trace_path);
			opt->trace_path = strdup(tok + 6);
			if (!opt->trace_path) {
				free(copy);
				return ENOMEM;
			}
		} else if (!strncmp(tok, "fail=", 5) ||
			   !strncmp(tok, "crash=", 6)) {
			int crash = tok[0] == 'c';
			const char *name = strchr(tok, '=') + 1;
			int call = parse_call(name);

			if (call < 0) {
				skel_msg(LOG_WARNING,
					 "pal_init: ignoring option '%s': unknown call '%s'",
					 tok, name);
				continue;
			}
			if (crash)
				opt->crash_mask |= 1u << call;
			else
				opt->fail_mask |= 1u << call;
		} else if (!strcmp(tok, "errno-style")) {
			opt->errno_style = 1;
		} else if (!strncmp(tok, "convention=", 11)) {
			int conv = conv_parse(tok + 11);

			if (conv < 0) {
				skel_msg(LOG_ERROR,
					 "pal_init: unknown convention '%s' (expected spec, occlum or wamr)",
					 tok + 11);
				err = EINVAL;
				continue;
			}
			opt->convention = conv;
		} else {
			skel_msg(LOG_WARNING,
				 "pal_init: ignoring unknown option '%s'", tok);
		}
	}
	free(copy);
	if (err)
		skel_free_options(opt);
	return err;
}

void skel_free_options(struct skel_options *opt)
{
	free(opt->trace_path);
	opt->trace_path = NULL;
}

void skel_trace_line(struct strbuf *sb)
{
	ssize_t n;

	if (sb->oom)
		return;
	if (skel_log_level <= LOG_DEBUG)
		skel_msg(LOG_DEBUG, "%s", sb->buf);
	if (skel.trace_fd < 0)
		return;
	sb_addf(sb, "\n");
	if (sb->oom)
		return;
	do
		n = write(skel.trace_fd, sb->buf, sb->len);
	while (n < 0 && errno == EINTR);
	sb->buf[--sb->len] = '\0';
}
