// SPDX-License-Identifier: Apache-2.0
#include "objvec.h"

#include <errno.h>
#include <stdlib.h>

int objvec_push(struct objvec *ov, struct object *o)
{
	if (ov->n == ov->cap) {
		size_t cap = ov->cap ? ov->cap * 2 : 16;
		struct object **v = realloc(ov->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ov->v = v;
		ov->cap = cap;
	}
	ov->v[ov->n++] = o;
	return 0;
}

void objvec_free(struct objvec *ov)
{
	size_t i;

	for (i = 0; i < ov->n; i++)
		obj_free(ov->v[i]);
	free(ov->v);
	ov->v = NULL;
	ov->n = ov->cap = 0;
}
