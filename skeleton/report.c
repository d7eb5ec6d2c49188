/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated local report of pal_get_local_report (v3). NOT a real
 * attestation report: nothing here is signed or measured.
 *
 * Layout, SKEL_REPORT_SIZE (432, the size of an SGX sgx_report_t) bytes:
 *   0   32  "SKELETON-SIMULATED-REPORT v1", NUL padded
 *   32   4  target_info_len, little-endian
 *   36   4  PAL API version, little-endian
 *   40  32  digest: 4 x FNV-1a-64, lane i over the byte i followed by
 *           target_info, each little-endian (not cryptographic)
 *   72 360  the first min(target_info_len, 360) bytes of target_info,
 *           zero padded
 */
#include <stdint.h>
#include <string.h>

#include "skeleton.h"

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void skel_make_report(const void *target_info, int target_info_len,
		      unsigned char report[SKEL_REPORT_SIZE])
{
	const unsigned char *ti = target_info;
	size_t len = target_info_len > 0 ? (size_t)target_info_len : 0;
	size_t copy = len < SKEL_REPORT_SIZE - 72 ? len : SKEL_REPORT_SIZE - 72;

	memset(report, 0, SKEL_REPORT_SIZE);
	memcpy(report, SKEL_REPORT_MAGIC, sizeof(SKEL_REPORT_MAGIC) - 1);
	put_le(report + 32, (uint32_t)len, 4);
	put_le(report + 36, PAL_VERSION, 4);
	for (int lane = 0; lane < 4; lane++) {
		unsigned char b = (unsigned char)lane;
		uint64_t h = fnv1a(0xcbf29ce484222325ull, &b, 1);

		if (len)
			h = fnv1a(h, ti, len);
		put_le(report + 40 + 8 * lane, h, 8);
	}
	if (copy)
		memcpy(report + 72, ti, copy);
}
