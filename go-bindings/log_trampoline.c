/* The C side of Runtime.SetLogger: librune calls rune_go_log, which hands the message to the
 * Go function registered under the cgo handle passed as userdata. */
#include <stdint.h>
#include "_cgo_export.h"

void rune_go_log(void *userdata, rune_log_level_t level, const char *message)
{
	runeGoLog((uintptr_t)userdata, (int)level, (char *)message);
}

rune_result_t rune_go_set_log(rune_context_t *ctx, uintptr_t handle, rune_error_t **err)
{
	return rune_context_set_log_callback(ctx, rune_go_log, (void *)handle, err);
}
