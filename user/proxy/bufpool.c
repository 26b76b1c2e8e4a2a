// SPDX-License-Identifier: Apache-2.0
/*
 * Connection I/O buffers: one size, mapped straight from the kernel and
 * kept per worker for reuse. A connection holds buffers only while a
 * request is in flight, so 10k keep-alive connections cost buffers only
 * for those busy at a time.
 *
 * Not malloc: buffers of tens of KiB freed between small long-lived
 * allocations fragment glibc's per-thread arenas, and bursts of
 * connections then grew the proxy by a hundred MB each, never given back.
 * Spares left unused for a whole period are unmapped, so memory follows
 * the load down as well as up.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "conn.h"
#include "log.h"

#define SPARE_PERIOD_MS 1000

void *px_buf_alloc(struct px_worker *w)
{
	void *p;

	if (w->n_spare) {
		p = w->spare[--w->n_spare];
		if (w->n_spare < w->low_spare)
			w->low_spare = w->n_spare;
		return p;
	}
	p = mmap(NULL, px_cfg.buf_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void px_buf_free(struct px_worker *w, void *p)
{
	void **s;

	if (!p)
		return;
	if (w->n_spare == w->cap_spare) {
		size_t cap = w->cap_spare ? w->cap_spare * 2 : 64;

		s = realloc(w->spare, cap * sizeof(*s));
		if (!s) {
			munmap(p, px_cfg.buf_size);
			return;
		}
		w->spare = s;
		w->cap_spare = cap;
	}
	w->spare[w->n_spare++] = p;
}

/* Unmap the spares no one took during the last period. */
void px_buf_shrink(struct px_worker *w, uint64_t now)
{
	if (now - w->spare_since < SPARE_PERIOD_MS)
		return;
	while (w->low_spare && w->n_spare) {
		munmap(w->spare[--w->n_spare], px_cfg.buf_size);
		w->low_spare--;
	}
	w->low_spare = w->n_spare;
	w->spare_since = now;
}

void px_buf_release_all(struct px_worker *w)
{
	while (w->n_spare)
		munmap(w->spare[--w->n_spare], px_cfg.buf_size);
	free(w->spare);
	w->spare = NULL;
	w->cap_spare = w->low_spare = 0;
}
