/* SPDX-License-Identifier: Apache-2.0 */
#ifndef AMBIT_OBJVEC_H
#define AMBIT_OBJVEC_H

#include <stddef.h>

#include "model.h"

/* A growable array of owned objects. */
struct objvec {
	struct object **v;
	size_t n;
	size_t cap;
};

/** objvec_push() - append @o (ownership moves in); 0 or -ENOMEM. */
int objvec_push(struct objvec *ov, struct object *o);

/** objvec_free() - free every object and the array. */
void objvec_free(struct objvec *ov);

#endif
