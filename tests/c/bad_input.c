/* bad_input.c: every kind of wrong input gives a result code and a message, never a crash:
 * NULL pointers, invalid UTF-8, bad ids, freed and foreign handles, configs that do not parse,
 * a missing rootfs or bundle, a missing init binary, wrong states. */
#include "common.h"

static const char INVALID_UTF8[] = {'c', (char)0xff, (char)0xfe, 0};

/* The message of `err` contains `want`; frees err. */
static void message_has(rune_error_t *err, const char *want, int line) {
  const char *m = rune_error_message(err);
  check_at(m && strstr(m, want) != NULL, __FILE__, line, "message \"%s\" lacks \"%s\"", m, want);
  rune_error_free(err);
}
#define MESSAGE_HAS(want) (message_has(err, (want), __LINE__), err = NULL)

static void test_null_pointers(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_context_t *c2 = NULL;
  rune_container_t *c = NULL;
  rune_create_options_t *opts = NULL;
  rune_status_t st;
  int32_t i32 = 0;
  bool b = false;
  char *s = NULL;

  EXPECT_KEEP(RUNE_RESULT_NULL_PARAMETER, rune_context_new(t->state, NULL, &err));
  MESSAGE_HAS("ctx_out is NULL");
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_create(NULL, "x", NULL, &c, &err));
  OK(rune_create_options_new(&opts, &err));
  EXPECT_KEEP(RUNE_RESULT_NULL_PARAMETER, rune_container_create(ctx, NULL, opts, &c, &err));
  MESSAGE_HAS("id is NULL");
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_create(ctx, "x", NULL, &c, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_create(ctx, "x", opts, NULL, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_load(ctx, NULL, &c, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_start(NULL, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_kill(NULL, SIGKILL, false, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_context_delete(NULL, "x", false, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_context_delete(ctx, NULL, false, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_delete(NULL, false, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_state_json(NULL, &s, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_status(NULL, &st, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_pid(NULL, &i32, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_wait(NULL, &i32, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_exec(NULL, NULL, &i32, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_context_list_json(ctx, NULL, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_context_list_json(NULL, &s, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_create_options_set_bundle(opts, NULL, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_create_options_set_bundle(NULL, "/b", &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_create_options_set_config_json(opts, NULL, NULL, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_context_set_init_binary(ctx, NULL, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_set_log_callback(NULL, NULL, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_process_wait(1, NULL, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_container_wait_timeout(NULL, 0, &b, &i32, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_process_wait_timeout(1, 0, NULL, &i32, &err));
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_process_wait_timeout(1, 0, &b, NULL, &err));
  CHECK(rune_container_id(NULL) == NULL, "rune_container_id(NULL)");
  CHECK(rune_error_code(NULL) == RUNE_RESULT_NULL_PARAMETER, "rune_error_code(NULL)");
  CHECK(rune_error_errno(NULL) == 0, "rune_error_errno(NULL)");
  CHECK(rune_error_message(NULL) != NULL, "rune_error_message(NULL) is NULL");
  /* err_out may be NULL: the code alone. */
  CHECK(rune_container_start(NULL, NULL) == RUNE_RESULT_NULL_PARAMETER, "err_out NULL");
  /* _free(NULL) is a no-op. */
  rune_context_free(NULL);
  rune_container_free(NULL);
  rune_create_options_free(NULL);
  rune_exec_options_free(NULL);
  rune_error_free(NULL);
  rune_string_free(NULL);
  rune_create_options_free(opts);
  (void)c2;
}

static void test_utf8_and_ids(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_context_t *c2 = NULL;
  rune_container_t *c = NULL;
  rune_create_options_t *opts = NULL;
  char *config = config_json(t->rootfs, "[\"true\"]");

  EXPECT(RUNE_RESULT_INVALID_UTF8, rune_context_new(INVALID_UTF8, &c2, &err));
  CHECK(c2 == NULL, "context set on failure");
  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_config_json(opts, config, NULL, &err));
  EXPECT_KEEP(RUNE_RESULT_INVALID_UTF8, rune_container_create(ctx, INVALID_UTF8, opts, &c, &err));
  MESSAGE_HAS("id is not valid UTF-8");
  EXPECT(RUNE_RESULT_INVALID_UTF8, rune_container_load(ctx, INVALID_UTF8, &c, &err));
  EXPECT(RUNE_RESULT_INVALID_UTF8, rune_context_delete(ctx, INVALID_UTF8, true, &err));
  EXPECT(RUNE_RESULT_INVALID_UTF8, rune_create_options_set_bundle(opts, INVALID_UTF8, &err));
  EXPECT(RUNE_RESULT_INVALID_UTF8, rune_create_options_set_config_json(opts, INVALID_UTF8, NULL, &err));
  EXPECT_KEEP(RUNE_RESULT_INVALID_ARGUMENT, rune_container_create(ctx, "a/b", opts, &c, &err));
  MESSAGE_HAS("invalid container id");
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_container_create(ctx, "", opts, &c, &err));
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_container_create(ctx, "..", opts, &c, &err));
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_container_load(ctx, "../etc", &c, &err));
  CHECK(c == NULL, "container set on failure");
  rune_create_options_free(opts);
  free(config);
}

static void test_freed_and_foreign_handles(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL, *dead = NULL;
  rune_create_options_t *opts = NULL;
  rune_exec_options_t *ex = NULL;
  rune_context_t *c2 = NULL;
  rune_container_t *c = NULL;
  long on_stack[8] = {0};
  int32_t i32;

  OK(rune_create_options_new(&opts, &err));
  rune_create_options_free(opts);
  EXPECT_KEEP(RUNE_RESULT_INVALID_HANDLE, rune_create_options_set_bundle(opts, "/b", &err));
  MESSAGE_HAS("not a live handle");
  EXPECT(RUNE_RESULT_INVALID_HANDLE, rune_container_create(ctx, "x", opts, &c, &err));
  rune_create_options_free(opts); /* a second free is detected and ignored */

  OK(rune_context_new(t->state, &c2, &err));
  rune_context_free(c2);
  EXPECT(RUNE_RESULT_INVALID_HANDLE, rune_context_list_json(c2, (char **)&on_stack[0], &err));
  rune_context_free(c2);

  /* A pointer librune did not make, and a handle of another type. */
  EXPECT(RUNE_RESULT_INVALID_HANDLE,
         rune_container_pid((rune_container_t *)(void *)on_stack, &i32, &err));
  OK(rune_exec_options_new(&ex, &err));
  EXPECT_KEEP(RUNE_RESULT_INVALID_HANDLE,
              rune_container_pid((rune_container_t *)(void *)ex, &i32, &err));
  MESSAGE_HAS("another type");
  rune_container_free((rune_container_t *)(void *)ex); /* ignored: not a container */
  rune_exec_options_free(ex);
  CHECK(rune_container_id((rune_container_t *)(void *)on_stack) == NULL, "foreign id");

  /* A freed error. */
  EXPECT_KEEP(RUNE_RESULT_NULL_PARAMETER, rune_container_start(NULL, &err));
  dead = err;
  rune_error_free(dead);
  CHECK(rune_error_code(dead) == RUNE_RESULT_INVALID_HANDLE, "freed error code");
  CHECK(rune_error_message(dead) != NULL, "freed error message");
  rune_error_free(dead);
  rune_string_free((char *)on_stack); /* ignored: not a librune string */
}

static void test_bad_configs(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_container_t *c = NULL;
  char *config = config_json("rootfs", "[\"true\"]");
  char missing[256];

  OK(rune_create_options_new(&opts, &err));
  EXPECT_KEEP(RUNE_RESULT_INVALID_ARGUMENT, rune_container_create(ctx, "c-none", opts, &c, &err));
  MESSAGE_HAS("neither a bundle nor a config");
  EXPECT_KEEP(RUNE_RESULT_INVALID_SPEC,
              rune_create_options_set_config_json(opts, "{\"ociVersion\": ", NULL, &err));
  MESSAGE_HAS("line 1");
  EXPECT(RUNE_RESULT_INVALID_SPEC,
         rune_create_options_set_config_json(opts, "{\"process\": 5}", NULL, &err));
  EXPECT(RUNE_RESULT_INVALID_SPEC, rune_create_options_set_config_json(opts, "[1, 2]", NULL, &err));

  snprintf(missing, sizeof missing, "%s/no-such-rootfs", t->base);
  OK(rune_create_options_set_config_json(opts, config, missing, &err));
  EXPECT_KEEP(RUNE_RESULT_NOT_FOUND, rune_container_create(ctx, "c-norootfs", opts, &c, &err));
  MESSAGE_HAS("no-such-rootfs");
  CHECK(c == NULL, "container set on failure");
  check_gone(t, "c-norootfs", 0);

  snprintf(missing, sizeof missing, "%s/no-such-bundle", t->base);
  OK(rune_create_options_set_bundle(opts, missing, &err));
  EXPECT_KEEP(RUNE_RESULT_NOT_FOUND, rune_container_create(ctx, "c-nobundle", opts, &c, &err));
  MESSAGE_HAS("no-such-bundle");
  check_gone(t, "c-nobundle", 0);

  /* A config that parses but is refused by validation: a relative process.cwd. */
  free(config);
  config = config_json(t->rootfs, "[\"true\"]");
  {
    char *cwd = strstr(config, "\"cwd\": \"/\"");
    if (cwd) memcpy(cwd, "\"cwd\": \"x\"", 10);
  }
  OK(rune_create_options_set_config_json(opts, config, NULL, &err));
  EXPECT(RUNE_RESULT_INVALID_SPEC, rune_container_create(ctx, "c-badcwd", opts, &c, &err));
  check_gone(t, "c-badcwd", 0);

  /* A hook that fails: its own code (not INTERNAL: no bug of rune's), and nothing left. Its
   * state on stdin is made larger than a pipe holds (an annotation of 200 KB), so rune's write
   * meets the hook gone: EPIPE, which must not come as a SIGPIPE that kills this program
   * (SIGPIPE at its default, as in most C programs). */
  free(config);
  config = config_json(t->rootfs, "[\"true\"]");
  {
    static const char at[] = "\"hostname\": \"rune-c\",";
    static const char hook[] =
        " \"hooks\": {\"createRuntime\": [{\"path\": \"/bin/false\"}]},"
        " \"annotations\": {\"big\": \"";
    enum { BIG = 200 * 1024 };
    char *pos = strstr(config, at);
    size_t n = strlen(config) + sizeof hook + BIG + 8;
    char *hooked = malloc(n);
    size_t off;
    if (!pos || !hooked) die("hook config");
    pos += strlen(at);
    off = (size_t)snprintf(hooked, n, "%.*s%s", (int)(pos - config), config, hook);
    memset(hooked + off, 'x', BIG);
    off += BIG;
    snprintf(hooked + off, n - off, "\"},%s", pos);
    free(config);
    config = hooked;
  }
  OK(rune_create_options_set_config_json(opts, config, NULL, &err));
  EXPECT_KEEP(RUNE_RESULT_HOOK, rune_container_create(ctx, "c-hook", opts, &c, &err));
  MESSAGE_HAS("error running createRuntime hook #0");
  CHECK(strcmp(rune_result_name(RUNE_RESULT_HOOK), "RUNE_RESULT_HOOK") == 0, "hook name");
  check_gone(t, "c-hook", 0);

  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_create_options_set_preserve_fds(opts, 1u << 30, &err));
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_create_options_set_pid_file(opts, "", &err));
  rune_create_options_free(opts);
  free(config);
}

static void test_init_binary(const struct testdir *t) {
  rune_error_t *err = NULL;
  rune_context_t *c2 = NULL;
  char *path = NULL, *saved_env = getenv("RUNE_INIT_BINARY"), *saved_path = getenv("PATH");
  char env_copy[512], path_copy[4096];

  snprintf(env_copy, sizeof env_copy, "%s", saved_env ? saved_env : "");
  snprintf(path_copy, sizeof path_copy, "%s", saved_path ? saved_path : "");
  OK(rune_context_new(t->state, &c2, &err));
  EXPECT_KEEP(RUNE_RESULT_NOT_FOUND, rune_context_set_init_binary(c2, "/no/such/rune", &err));
  MESSAGE_HAS("/no/such/rune");
  rune_context_free(c2);

  /* No binary anywhere: the error names every place it looked. */
  unsetenv("RUNE_INIT_BINARY");
  setenv("PATH", "/no-such-dir", 1);
  OK(rune_context_new(t->state, &c2, &err));
  EXPECT_KEEP(RUNE_RESULT_NOT_FOUND, rune_context_init_binary(c2, &path, &err));
  CHECK(path == NULL, "path set on failure");
  if (err) {
    const char *m = rune_error_message(err);
    CHECK(strstr(m, "RUNE_INIT_BINARY") && strstr(m, "libexec/rune/rune") &&
              strstr(m, "/no-such-dir") && strstr(m, "rune_context_set_init_binary"),
          "message %s", m);
    rune_error_free(err);
    err = NULL;
  }
  rune_context_free(c2);
  setenv("PATH", path_copy, 1);
  setenv("RUNE_INIT_BINARY", env_copy, 1);

  setenv("RUNE_INIT_BINARY", "/no/such/rune-init", 1);
  OK(rune_context_new(t->state, &c2, &err));
  EXPECT_KEEP(RUNE_RESULT_NOT_FOUND, rune_context_init_binary(c2, &path, &err));
  MESSAGE_HAS("RUNE_INIT_BINARY");
  rune_context_free(c2);
  setenv("RUNE_INIT_BINARY", env_copy, 1);
}

/* Wrong states and arguments on a real container. */
static void test_states(const struct testdir *t, rune_context_t *ctx) {
  rune_error_t *err = NULL;
  rune_create_options_t *opts = NULL;
  rune_exec_options_t *ex = NULL;
  rune_context_t *other = NULL;
  rune_container_t *c = NULL, *dup = NULL, *loaded = NULL;
  char *config = config_json(t->rootfs, "[\"sleep\", \"1000\"]");
  const char *with_null[] = {"sh", NULL};
  const char *bad_env[] = {"NOEQUALS"};
  int32_t pid = 0, i32 = 0;
  bool b = false;

  OK(rune_create_options_new(&opts, &err));
  OK(rune_create_options_set_config_json(opts, config, NULL, &err));
  free(config);
  OK(rune_container_create(ctx, "c-state", opts, &c, &err));
  if (!c) {
    rune_create_options_free(opts);
    return;
  }
  OK(rune_container_pid(c, &pid, &err));
  EXPECT_KEEP(RUNE_RESULT_ALREADY_EXISTS, rune_container_create(ctx, "c-state", opts, &dup, &err));
  MESSAGE_HAS("already exists");
  CHECK(dup == NULL, "duplicate handle set");
  EXPECT_KEEP(RUNE_RESULT_NOT_FOUND, rune_container_load(ctx, "c-nonexistent", &loaded, &err));
  MESSAGE_HAS("c-nonexistent");
  EXPECT(RUNE_RESULT_NOT_FOUND, rune_context_delete(ctx, "c-nonexistent", false, &err));
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_container_kill(c, 0, false, &err));
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_container_kill(c, 1000, false, &err));

  OK(rune_exec_options_new(&ex, &err));
  EXPECT_KEEP(RUNE_RESULT_INVALID_ARGUMENT, rune_container_exec(c, ex, &i32, &err));
  MESSAGE_HAS("no command");
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_exec_options_set_args(ex, with_null, 0, &err));
  EXPECT_KEEP(RUNE_RESULT_NULL_PARAMETER, rune_exec_options_set_args(ex, with_null, 2, &err));
  MESSAGE_HAS("args[1] is NULL");
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_exec_options_set_args(ex, NULL, 1, &err));
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_exec_options_set_env(ex, bad_env, 1, &err));
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_exec_options_set_cwd(ex, "relative", &err));
  EXPECT(RUNE_RESULT_INVALID_SPEC, rune_exec_options_set_process_json(ex, "{\"args\": 1}", &err));
  EXPECT(RUNE_RESULT_INVALID_UTF8, rune_exec_options_set_cwd(ex, INVALID_UTF8, &err));
  rune_exec_options_free(ex);

  /* Not a child of this context: no wait. */
  OK(rune_context_new(t->state, &other, &err));
  OK(rune_container_load(other, "c-state", &loaded, &err));
  EXPECT_KEEP(RUNE_RESULT_INVALID_STATE, rune_container_wait(loaded, &i32, &err));
  MESSAGE_HAS("not created by this process");
  EXPECT_KEEP(RUNE_RESULT_INVALID_STATE,
              rune_container_wait_timeout(loaded, 0, &b, &i32, &err));
  MESSAGE_HAS("not created by this process");
  rune_container_free(loaded);
  rune_context_free(other);

  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_process_wait(0, &i32, &err));
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_process_wait_timeout(-1, 10, &b, &i32, &err));
  EXPECT_KEEP(RUNE_RESULT_OS, rune_process_wait_timeout(1, 10, &b, &i32, &err));
  CHECK(err && rune_error_errno(err) == ECHILD && !b, "errno %d, want ECHILD",
        rune_error_errno(err));
  rune_error_free(err);
  err = NULL;
  EXPECT_KEEP(RUNE_RESULT_OS, rune_process_wait(1, &i32, &err));
  CHECK(err && rune_error_errno(err) == ECHILD, "errno %d, want ECHILD", rune_error_errno(err));
  rune_error_free(err);
  err = NULL;

  OK(rune_container_delete(c, false, &err)); /* created: deleted as is */
  EXPECT(RUNE_RESULT_NOT_FOUND, rune_container_start(c, &err));
  OK(rune_container_wait(c, &i32, &err));
  rune_container_free(c);
  rune_create_options_free(opts);
  check_gone(t, "c-state", pid);
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int global_logs;

static void count_log(void *userdata, rune_log_level_t level, const char *message) {
  (void)level;
  (void)message;
  pthread_mutex_lock(&log_lock);
  (*(int *)userdata)++;
  pthread_mutex_unlock(&log_lock);
}

static void test_misc(void) {
  rune_error_t *err = NULL;
  rune_context_t *dflt = NULL;
  OK(rune_context_new(NULL, &dflt, &err)); /* NULL root: /run/rune */
  rune_context_free(dflt);
  EXPECT(RUNE_RESULT_INVALID_ARGUMENT, rune_context_new("", &dflt, &err));
  EXPECT_KEEP(RUNE_RESULT_INVALID_STATE, rune_set_log_callback(count_log, &global_logs, &err));
  MESSAGE_HAS("set already");
  CHECK(global_logs > 0, "the global log callback got no message");
  CHECK(strcmp(rune_result_name(RUNE_RESULT_NOT_FOUND), "RUNE_RESULT_NOT_FOUND") == 0, "name");
  CHECK(strcmp(rune_result_name(999), "RUNE_RESULT_UNKNOWN") == 0, "unknown name");
  CHECK(strcmp(rune_result_name(-1), "RUNE_RESULT_UNKNOWN") == 0, "negative name");
  EXPECT(RUNE_RESULT_NULL_PARAMETER, rune_exec_options_new(NULL, &err));
}

int main(void) {
  struct testdir t;
  rune_context_t *ctx;
  rune_error_t *err = NULL;
  char *json = NULL;

  make_testdir(&t);
  ctx = new_context(&t);
  OK(rune_set_log_callback(count_log, &global_logs, &err)); /* for contexts without their own */
  test_null_pointers(&t, ctx);
  test_utf8_and_ids(&t, ctx);
  test_freed_and_foreign_handles(&t, ctx);
  test_bad_configs(&t, ctx);
  test_init_binary(&t);
  test_states(&t, ctx);
  test_misc();
  OK(rune_context_list_json(ctx, &json, &err));
  CHECK(json && strcmp(json, "null") == 0, "containers left: %s", json);
  rune_string_free(json);
  rune_context_free(ctx);
  rm_rf(t.base);
  return report();
}
