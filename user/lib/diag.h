/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics: errors about user input, each rendered once as
 *   FILE:LINE:COL: document N: FIELD.PATH: message
 * so a user can jump straight to the offending spot. Input without
 * positions (JSON from `ambit sync`) has line 0 and a FILE that says where
 * ("<stdin>: event 12: Service shop/web"):  FILE: FIELD.PATH: message
 */
#ifndef AMBIT_DIAG_H
#define AMBIT_DIAG_H

#include <stddef.h>

#include "model.h"

struct diags {
	char **msgs; /* malloc'd, rendered messages */
	size_t n;
	size_t cap;
	size_t max; /* stop recording after this many (0: 100) */
	size_t dropped;
};

/**
 * diag_add() - record one error. @pos may be NULL (no location), @path may
 * be NULL or "" (no field path). Never fails: on ENOMEM the message is
 * counted in ->dropped.
 */
void diag_add(struct diags *d, const struct src_pos *pos, const char *path,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** diags_join() - all messages, one per line, malloc'd; NULL on ENOMEM. */
char *diags_join(const struct diags *d);

/** diags_free() - release the messages; @d is empty afterwards. */
void diags_free(struct diags *d);

#endif
