/* lifecycle.c: real containers through librune: versions, create (from a bundle dir and from a
 * config string) / start / state / wait (also with a limit) / kill / delete, exec with exit
 * codes, list, load, the log callback; and nothing left behind. */
#include "common.h"

#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_created, log_deleted;

static void on_log(void *userdata, rune_log_level_t level, const char *message) {
  (void)userdata;
  pthread_mutex_lock(&log_lock);
  if (level == RUNE_LOG_LEVEL_INFO && strstr(message, "created")) log_created++;
  if (level == RUNE_LOG_LEVEL_INFO && strstr(message, "deleted")) log_deleted++;
  pthread_mutex_unlock(&log_lock);
}

static void test_versions(void) {
  char want[32];
  CHECK(rune_abi_version() == RUNE_ABI_VERSION, "abi %u != %u", rune_abi_version(),
        RUNE_ABI_VERSION);
  snprintf(want, sizeof want, "%d.%d.%d", RUNE_VERSION_MAJOR, RUNE_VERSION_MINOR,
           RUNE_VERSION_PATCH);
  CHECK(strcmp(rune_version(), want) == 0, "version %s != %s", rune_version(), want);
}

static void test_init_binary(rune_context_t *ctx) {
  rune_error_t *err = NULL;
  char *path = NULL;
  const char *want = getenv("RUNE_INIT_BINARY");
  OK(rune_context_init_binary(ctx, &path, &err));
  if (want) {
    CHECK(path && strcmp(path, want) == 0, "init binary %s, want %s", path, want);
  } else { /* installed: the rune next to librune */
    const char *tail = "/libexec/rune/rune";
    CHECK(path && strlen(path) > strlen(tail) &&
              strcmp(path + strlen(path) - strlen(tail), tail) == 0,
          "init binary %s, want .../libexec/rune/rune", path);
  }
  rune_string_free(path);
}

/* A bundle directory (config.json + rootfs) whose process exits 3: create with a pid file,
 * state, start, wait, delete. */
static void test_bundle_exit_code(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_container_t *c = NULL, *again = NULL;
  rune_status_t status = 0;
  char *json = NULL, *config = config_json("rootfs", "[\"sh\", \"-c\", \"exit 3\"]");
  char path[256], pidfile[256], want[32];
  int32_t pid = 0, code = -1;
  const char *id = "c-exit";

  snprintf(path, sizeof path, "%s/config.json", t->bundle);
  write_file(path, config);
  free(config);
  snprintf(path, sizeof path, "%s/rootfs", t->bundle);
  if (symlink(t->rootfs, path) != 0) die("symlink rootfs");
  snprintf(pidfile, sizeof pidfile, "%s/c-exit.pid", t->base);

  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_bundle(opts, t->bundle, &err));
  OK(rune_create_options_set_pid_file(opts, pidfile, &err));
  OK(rune_container_create(ctx, id, opts, &c, &err));
  rune_create_options_free(opts);
  if (!c) return;
  CHECK(strcmp(rune_container_id(c), id) == 0, "id %s", rune_container_id(c));
  OK(rune_container_status(c, &status, &err));
  CHECK(status == RUNE_STATUS_CREATED, "status %d after create", status);
  OK(rune_container_pid(c, &pid, &err));
  CHECK(pid > 0, "pid %d", pid);
  snprintf(want, sizeof want, "%d", pid);
  CHECK(read_file(pidfile) && strcmp(read_file(pidfile), want) == 0, "pid file %s != %s",
        read_file(pidfile), want);
  OK(rune_container_state_json(c, &json, &err));
  CHECK(json && strstr(json, "\"status\":\"created\"") && strstr(json, "\"id\":\"c-exit\""),
        "state %s", json);
  rune_string_free(json);

  OK(rune_container_start(c, &err));
  OK(rune_container_wait(c, &code, &err));
  CHECK(code == 3, "exit code %d, want 3", code);
  OK(rune_container_wait(c, &code, &err));
  CHECK(code == 3, "second wait: exit code %d, want 3", code);
  OK(rune_container_status(c, &status, &err));
  CHECK(status == RUNE_STATUS_STOPPED, "status %d after exit", status);
  OK(rune_container_state_json(c, &json, &err));
  CHECK(json && strstr(json, "\"status\":\"stopped\""), "state %s", json);
  rune_string_free(json);
  EXPECT(RUNE_RESULT_INVALID_STATE, rune_container_start(c, &err));

  OK(rune_container_delete(c, false, &err));
  EXPECT(RUNE_RESULT_NOT_FOUND, rune_container_delete(c, false, &err));
  EXPECT(RUNE_RESULT_NOT_FOUND, rune_container_state_json(c, &json, &err));
  CHECK(json == NULL, "json set on failure");
  EXPECT(RUNE_RESULT_NOT_FOUND, rune_container_load(ctx, id, &again, &err));
  CHECK(again == NULL, "handle set on failure");
  rune_container_free(c);
  check_gone(t, id, pid);
  unlink(pidfile);
}

/* What `rune --root <state> list --format json` prints, without its newline (the rune binary
 * librune runs as init); the caller frees it. */
static char *cli_list_json(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  char *rune = NULL, cmd[512], *out;
  size_t n = 0;
  FILE *p;
  OK(rune_context_init_binary(ctx, &rune, &err));
  if (!rune) return NULL;
  snprintf(cmd, sizeof cmd, "'%s' --root '%s' list --format json", rune, t->state);
  rune_string_free(rune);
  out = calloc(1, 65536);
  if (!out || !(p = popen(cmd, "r"))) die("popen rune list");
  n = fread(out, 1, 65535, p);
  CHECK(pclose(p) == 0, "%s failed", cmd);
  while (n > 0 && out[n - 1] == '\n') out[--n] = 0;
  return out;
}

/* rune_context_list_json, with container c-exec running: the same document as the CLI's
 * `list --format json`, runc's fields. */
static void test_list(const struct testdir *t, rune_context_t *ctx) {
  static const char *fields[] = {"\"ociVersion\":", "\"id\":\"c-exec\"", "\"pid\":",
                                 "\"status\":\"running\"", "\"bundle\":", "\"rootfs\":",
                                 "\"created\":", "\"owner\":"};
  rune_error_t *err = NULL;
  char *json = NULL, *cli = cli_list_json(t, ctx);
  size_t i;
  OK(rune_context_list_json(ctx, &json, &err));
  CHECK(json && json[0] == '[', "list %s", json);
  for (i = 0; json && i < sizeof fields / sizeof *fields; i++)
    CHECK(strstr(json, fields[i]) != NULL, "list %s lacks %s", json, fields[i]);
  CHECK(json && cli && strcmp(json, cli) == 0, "list %s\n != rune list --format json %s", json,
        cli);
  rune_string_free(json);
  free(cli);
}

static long ms_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Waits with a limit, for the running init of `c` and for an exec'd `sleep`: each gives up in
 * time while the process runs, and reaps it once it has exited. */
static void test_wait_timeout(rune_container_t *c) {
  rune_error_t *err = NULL;
  rune_exec_options_t *ex = NULL;
  const char *sleep_args[] = {"sleep", "1000"};
  struct timespec t0;
  bool exited = true;
  int32_t code = -1, xpid = 0;

  OK(rune_container_wait_timeout(c, 0, &exited, &code, &err));
  CHECK(!exited && code == 0, "running init, no wait: exited %d, code %d", exited, code);
  exited = true;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  OK(rune_container_wait_timeout(c, 50, &exited, &code, &err));
  CHECK(!exited && ms_since(&t0) >= 50 && ms_since(&t0) < 5000,
        "running init, 50 ms: exited %d after %ld ms", exited, ms_since(&t0));

  OK(rune_exec_options_new(&ex, &err));
  OK(rune_exec_options_set_args(ex, sleep_args, 2, &err));
  OK(rune_container_exec(c, ex, &xpid, &err));
  rune_exec_options_free(ex);
  if (xpid <= 0) return;
  exited = true;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  OK(rune_process_wait_timeout(xpid, 20, &exited, &code, &err));
  CHECK(!exited && ms_since(&t0) >= 20, "exec'd sleep, 20 ms: exited %d after %ld ms", exited,
        ms_since(&t0));
  CHECK(kill(xpid, SIGKILL) == 0, "kill exec'd sleep: %s", strerror(errno));
  clock_gettime(CLOCK_MONOTONIC, &t0);
  OK(rune_process_wait_timeout(xpid, -1, &exited, &code, &err));
  CHECK(exited && code == 128 + SIGKILL && ms_since(&t0) < 5000,
        "killed exec'd sleep: exited %d, code %d after %ld ms", exited, code, ms_since(&t0));
  EXPECT(RUNE_RESULT_OS, rune_process_wait_timeout(xpid, 0, &exited, &code, &err));
}

/* A config string with a long-running process: exec with exit codes, env, cwd and user,
 * detached exec, list, load, kill, delete. */
static void test_config_exec_kill(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_exec_options_t *ex = NULL;
  rune_container_t *c = NULL, *loaded = NULL;
  rune_status_t status = 0;
  char *config = config_json("ignored", "[\"sleep\", \"1000\"]");
  const char *exit5[] = {"sh", "-c", "exit 5"};
  const char *check_env[] = {"sh", "-c",
                             "test \"$FOO\" = bar && test \"$(pwd)\" = /proc && "
                             "test \"$(id -u):$(id -g)\" = 7:8 && test \"$(hostname)\" = rune-c"};
  const char *env[] = {"FOO=bar"};
  const char *sleep_args[] = {"sleep", "1"};
  int32_t pid = 0, xpid = 0, code = -1;
  bool exited = false;
  const char *id = "c-exec";

  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_config_json(opts, config, t->rootfs, &err));
  free(config);
  OK(rune_container_create(ctx, id, opts, &c, &err));
  rune_create_options_free(opts);
  if (!c) return;
  OK(rune_container_start(c, &err));
  OK(rune_container_status(c, &status, &err));
  CHECK(status == RUNE_STATUS_RUNNING, "status %d after start", status);
  OK(rune_container_pause(c, &err));
  OK(rune_container_status(c, &status, &err));
  CHECK(status == RUNE_STATUS_PAUSED, "status %d after pause", status);
  EXPECT(RUNE_RESULT_INVALID_STATE, rune_container_pause(c, &err));
  OK(rune_container_resume(c, &err));
  OK(rune_container_status(c, &status, &err));
  CHECK(status == RUNE_STATUS_RUNNING, "status %d after resume", status);
  OK(rune_container_pid(c, &pid, &err));

  OK(rune_exec_options_new(&ex, &err));
  OK(rune_exec_options_set_args(ex, exit5, 3, &err));
  OK(rune_container_exec(c, ex, &xpid, &err));
  CHECK(xpid > 0 && xpid != pid, "exec pid %d", xpid);
  OK(rune_process_wait(xpid, &code, &err));
  CHECK(code == 5, "exec exit code %d, want 5", code);

  OK(rune_exec_options_set_args(ex, check_env, 3, &err));
  OK(rune_exec_options_set_env(ex, env, 1, &err));
  OK(rune_exec_options_set_cwd(ex, "/proc", &err));
  OK(rune_exec_options_set_user(ex, 7, 8, &err));
  OK(rune_container_exec(c, ex, &xpid, &err));
  OK(rune_process_wait(xpid, &code, &err));
  CHECK(code == 0, "env/cwd/user check exited %d", code);
  rune_exec_options_free(ex);

  OK(rune_exec_options_new(&ex, &err));
  OK(rune_exec_options_set_process_json(
      ex,
      "{\"args\": [\"sh\", \"-c\", \"exit 9\"], \"cwd\": \"/\", \"env\": [\"PATH=/bin\"],"
      " \"user\": {\"uid\": 0, \"gid\": 0}}",
      &err));
  OK(rune_container_exec(c, ex, &xpid, &err));
  OK(rune_process_wait(xpid, &code, &err));
  CHECK(code == 9, "process JSON exec exited %d, want 9", code);
  rune_exec_options_free(ex);

  OK(rune_exec_options_new(&ex, &err));
  OK(rune_exec_options_set_args(ex, sleep_args, 2, &err));
  OK(rune_exec_options_set_detach(ex, true, &err));
  OK(rune_container_exec(c, ex, &xpid, &err));
  CHECK(xpid > 0, "detached exec pid %d", xpid);
  rune_exec_options_free(ex);

  test_list(t, ctx);
  test_wait_timeout(c);

  OK(rune_container_load(ctx, id, &loaded, &err));
  if (loaded) {
    int32_t lpid = 0;
    OK(rune_container_pid(loaded, &lpid, &err));
    CHECK(lpid == pid, "loaded pid %d != %d", lpid, pid);
    EXPECT(RUNE_RESULT_INVALID_STATE, rune_container_delete(loaded, false, &err));
    OK(rune_container_kill(loaded, SIGKILL, false, &err));
    rune_container_free(loaded);
  }
  OK(rune_container_wait_timeout(c, 10000, &exited, &code, &err));
  CHECK(exited && code == 128 + SIGKILL, "killed init: exited %d, code %d, want %d", exited,
        code, 128 + SIGKILL);
  OK(rune_container_wait(c, &code, &err));
  CHECK(code == 128 + SIGKILL, "killed init exit code %d, want %d", code, 128 + SIGKILL);
  EXPECT(RUNE_RESULT_INVALID_STATE, rune_container_kill(c, SIGKILL, false, &err));
  OK(rune_container_delete(c, false, &err));
  rune_container_free(c);
  check_gone(t, id, pid);
}

/* A running container deleted with force; the exit code is kept for a later wait. */
static void test_force_delete(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_container_t *c = NULL;
  char *config = config_json(t->rootfs, "[\"sleep\", \"1000\"]");
  int32_t pid = 0, code = -1;

  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_config_json(opts, config, NULL, &err));
  free(config);
  OK(rune_container_create(ctx, "c-force", opts, &c, &err));
  rune_create_options_free(opts);
  if (!c) return;
  OK(rune_container_start(c, &err));
  OK(rune_container_pid(c, &pid, &err));
  OK(rune_container_kill(c, SIGSTOP, true, &err));
  OK(rune_context_delete(ctx, "c-force", true, &err));
  OK(rune_container_wait(c, &code, &err));
  CHECK(code == 128 + SIGKILL, "force-deleted init exit code %d", code);
  rune_container_free(c);
  check_gone(t, "c-force", pid);
}

int main(void) {
  struct testdir t;
  rune_context_t *ctx;
  rune_error_t *err = NULL;
  char *json = NULL;

  make_testdir(&t);
  ctx = new_context(&t);
  OK(rune_context_set_log_callback(ctx, on_log, NULL, &err));
  test_versions();
  test_init_binary(ctx);
  OK(rune_context_list_json(ctx, &json, &err));
  CHECK(json && strcmp(json, "null") == 0, "list of no container: %s, want null", json);
  rune_string_free(json);
  test_bundle_exit_code(&t, ctx);
  test_config_exec_kill(&t, ctx);
  test_force_delete(&t, ctx);
  CHECK(log_created == 3 && log_deleted == 3, "log: %d created, %d deleted", log_created,
        log_deleted);
  OK(rune_context_list_json(ctx, &json, &err));
  CHECK(json && strcmp(json, "null") == 0, "containers left: %s", json);
  rune_string_free(json);
  rune_context_free(ctx);
  rm_rf(t.base);
  return report();
}
