/* enclave.c: enclave containers through librune (the skeleton enclave runtime, type sim), and
 * the direct enclave API (rune_enclave_t) driving the skeleton in this process. */
#include "common.h"

static char skel[3][256];

static void test_enclave_container(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_container_t *c = NULL;
  int32_t pid = 0, code = -1;
  char *config = config_json("ignored", "[\"sh\", \"-c\", \"exit 4\"]");

  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_config_json(opts, config, t->rootfs, &err));
  OK(rune_create_options_set_enclave(opts, "sim", skel[2], NULL, "info", &err));
  free(config);
  OK(rune_container_create(ctx, "enc-run", opts, &c, &err));
  rune_create_options_free(opts);
  if (!c) return;
  OK(rune_container_pid(c, &pid, &err));
  OK(rune_container_start(c, &err));
  OK(rune_container_wait(c, &code, &err));
  CHECK(code == 4, "enclave entrypoint exit code %d, want 4", code);
  OK(rune_container_delete(c, false, &err));
  rune_container_free(c);
  check_gone(t, "enc-run", pid);
}

static void test_enclave_exec(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_exec_options_t *ex = NULL;
  rune_container_t *c = NULL;
  int32_t pid = 0, xpid = 0, code = -1;
  const char *exit6[] = {"sh", "-c", "exit 6"};
  char *config = config_json("ignored", "[\"sleep\", \"1000\"]");

  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_config_json(opts, config, t->rootfs, &err));
  OK(rune_create_options_set_enclave(opts, "sim", skel[1], NULL, NULL, &err));
  free(config);
  OK(rune_container_create(ctx, "enc-exec", opts, &c, &err));
  rune_create_options_free(opts);
  if (!c) return;
  OK(rune_container_pid(c, &pid, &err));
  OK(rune_container_start(c, &err));
  OK(rune_exec_options_new(&ex, &err));
  OK(rune_exec_options_set_args(ex, exit6, 3, &err));
  OK(rune_container_exec(c, ex, &xpid, &err));
  OK(rune_process_wait(xpid, &code, &err));
  CHECK(code == 6, "exec in the enclave: exit code %d, want 6", code);
  rune_exec_options_free(ex);
  OK(rune_container_delete(c, true, &err));
  OK(rune_container_wait(c, &code, &err));
  rune_container_free(c);
  check_gone(t, "enc-exec", pid);
}

static void test_bad_enclave_type(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_container_t *c = NULL;
  char *config = config_json("ignored", "[\"true\"]");
  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_config_json(opts, config, t->rootfs, &err));
  OK(rune_create_options_set_enclave(opts, "nope", skel[2], NULL, NULL, &err));
  free(config);
  EXPECT_KEEP(RUNE_RESULT_INVALID_SPEC, rune_container_create(ctx, "enc-bad", opts, &c, &err));
  CHECK(err && strstr(rune_error_message(err), "sim") != NULL, "message: %s",
        err ? rune_error_message(err) : "");
  rune_error_free(err);
  CHECK(c == NULL, "a container handle on failure");
  rune_create_options_free(opts);
  check_gone(t, "enc-bad", 0);
}

/* Runs `argv` through a v2+ PAL with stdout on a pipe; returns the exit code, output in `out`. */
static int direct_run(rune_enclave_t *e, const char **argv, size_t argc, char *out, size_t n) {
  rune_error_t *err = NULL;
  int fds[2], pid = -1, code = -1;
  ssize_t got;
  if (pipe(fds) != 0) die("pipe");
  OK(rune_enclave_create_process(e, "/bin/sh", argv, argc, NULL, 0, 0, fds[1], 2, &pid, &err));
  close(fds[1]);
  OK(rune_enclave_exec(e, pid, &code, &err));
  got = read(fds[0], out, n - 1);
  out[got > 0 ? got : 0] = 0;
  close(fds[0]);
  return code;
}

static void test_direct_v3(void) {
  rune_error_t *err = NULL;
  rune_enclave_t *e = NULL;
  const char *echo[] = {"sh", "-c", "echo direct"};
  char out[64];
  uint8_t *report = NULL;
  size_t len = 0;
  int pid = -1, code = -1;

  OK(rune_enclave_load(skel[2], &e, &err));
  if (!e) return;
  CHECK(rune_enclave_version(e) == 3, "version %u", rune_enclave_version(e));
  OK(rune_enclave_init(e, "", NULL, &err));
  code = direct_run(e, echo, 3, out, sizeof out);
  CHECK(code == 0 && strcmp(out, "direct\n") == 0, "direct run: %d %s", code, out);
  OK(rune_enclave_create_process(e, "/bin/sleep", (const char *[]){"sleep", "100"}, 2, NULL, 0,
                                 0, 1, 2, &pid, &err));
  OK(rune_enclave_kill(e, pid, SIGKILL, &err));
  OK(rune_enclave_exec(e, pid, &code, &err));
  CHECK(code == 128 + SIGKILL, "killed process exit code %d", code);
  OK(rune_enclave_local_report(e, NULL, 0, &report, &len, &err));
  CHECK(report && len == 432 && memcmp(report, "SKELETON-SIMULATED-REPORT v1", 28) == 0,
        "report of %zu bytes", len);
  rune_bytes_free(report, len);
  OK(rune_enclave_destroy(e, &err));
  rune_enclave_free(e);
  EXPECT(RUNE_RESULT_INVALID_HANDLE, rune_enclave_init(e, "", NULL, &err));
}

static void test_direct_v1(void) {
  rune_error_t *err = NULL;
  rune_enclave_t *e = NULL;
  const char *exit3[] = {"sh", "-c", "exit 3"};
  uint8_t *report = NULL;
  size_t len = 0;
  int pid = -1, code = -1;

  OK(rune_enclave_load(skel[0], &e, &err));
  if (!e) return;
  CHECK(rune_enclave_version(e) == 1, "version %u", rune_enclave_version(e));
  OK(rune_enclave_init(e, NULL, "info", &err));
  OK(rune_enclave_exec_v1(e, "/bin/sh", exit3, 3, 0, 1, 2, &code, &err));
  CHECK(code == 3, "v1 exit code %d", code);
  EXPECT(RUNE_RESULT_ENCLAVE,
         rune_enclave_create_process(e, "/bin/sh", exit3, 3, NULL, 0, 0, 1, 2, &pid, &err));
  EXPECT(RUNE_RESULT_ENCLAVE, rune_enclave_local_report(e, NULL, 0, &report, &len, &err));
  CHECK(report == NULL && len == 0, "out-parameters set on failure");
  OK(rune_enclave_destroy(e, &err));
  rune_enclave_free(e);
}

static void test_direct_bad_input(void) {
  rune_error_t *err = NULL;
  rune_enclave_t *e = NULL;
  EXPECT(RUNE_RESULT_NOT_FOUND, rune_enclave_load("/nonexistent/pal.so", &e, &err));
  EXPECT(RUNE_RESULT_INVALID_SPEC, rune_enclave_load("relative/pal.so", &e, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_enclave_load(NULL, &e, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_enclave_init(NULL, "", NULL, &err));
  CHECK(e == NULL, "no handle on failure");
  rune_enclave_free(NULL);
}

int main(void) {
  struct testdir t;
  rune_context_t *ctx;
  const char *dir = getenv("RUNE_SKELETON_DIR");
  int v;
  if (!dir) {
    fprintf(stderr, "set RUNE_SKELETON_DIR to the built skeleton (make -C skeleton)\n");
    return 2;
  }
  for (v = 1; v <= 3; v++)
    snprintf(skel[v - 1], sizeof skel[0], "%s/liberpal-skeleton-v%d.so", dir, v);
  make_testdir(&t);
  ctx = new_context(&t);
  test_enclave_container(&t, ctx);
  test_enclave_exec(&t, ctx);
  test_bad_enclave_type(&t, ctx);
  test_direct_v3();
  test_direct_v1();
  test_direct_bad_input();
  rune_context_free(ctx);
  rm_rf(t.base);
  return report();
}
