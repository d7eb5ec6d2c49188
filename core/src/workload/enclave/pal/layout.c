/* C's sizes and field offsets of the PAL API structs, compared with Rust's in a unit test. */
#include <stddef.h>
#include "pal.h"

#define ENTRY(expr) (size_t)(expr)

size_t rune_pal_c_layout(int which)
{
	static const size_t table[] = {
		ENTRY(sizeof(pal_attr_t)),
		ENTRY(offsetof(pal_attr_t, args)),
		ENTRY(offsetof(pal_attr_t, log_level)),
		ENTRY(sizeof(pal_attr_v3_t)),
		ENTRY(offsetof(pal_attr_v3_t, attr_v1)),
		ENTRY(offsetof(pal_attr_v3_t, fd)),
		ENTRY(offsetof(pal_attr_v3_t, addr)),
		ENTRY(sizeof(pal_stdio_fds)),
		ENTRY(offsetof(pal_stdio_fds, stdin)),
		ENTRY(offsetof(pal_stdio_fds, stdout)),
		ENTRY(offsetof(pal_stdio_fds, stderr)),
		ENTRY(sizeof(pal_create_process_args)),
		ENTRY(offsetof(pal_create_process_args, path)),
		ENTRY(offsetof(pal_create_process_args, argv)),
		ENTRY(offsetof(pal_create_process_args, env)),
		ENTRY(offsetof(pal_create_process_args, stdio)),
		ENTRY(offsetof(pal_create_process_args, pid)),
		ENTRY(sizeof(pal_exec_args)),
		ENTRY(offsetof(pal_exec_args, pid)),
		ENTRY(offsetof(pal_exec_args, exit_value)),
	};
	if (which < 0 || (size_t)which >= sizeof(table) / sizeof(table[0]))
		return (size_t)-1;
	return table[which];
}
