// SPDX-License-Identifier: Apache-2.0
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int diag_push(struct diags *d, char *msg)
{
	size_t max = d->max ? d->max : 100;

	if (d->n >= max)
		return -1;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **m = realloc(d->msgs, cap * sizeof(*m));

		if (!m)
			return -1;
		d->msgs = m;
		d->cap = cap;
	}
	d->msgs[d->n++] = msg;
	return 0;
}

void diag_add(struct diags *d, const struct src_pos *pos, const char *path,
	      const char *fmt, ...)
{
	char text[512], where[320] = "";
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Line 0: input without positions (JSON); the file names the spot. */
	if (pos && pos->file && pos->line > 0)
		snprintf(where, sizeof(where), "%s:%d:%d: document %d: ",
			 pos->file, pos->line, pos->col, pos->doc);
	else if (pos && pos->file)
		snprintf(where, sizeof(where), "%s: ", pos->file);
	if (asprintf(&msg, "%s%s%s%s", where, path ? path : "",
		     path && *path ? ": " : "", text) < 0)
		msg = NULL;
	if (!msg || diag_push(d, msg) < 0) {
		free(msg);
		d->dropped++;
	}
}

char *diags_join(const struct diags *d)
{
	size_t len = 1, i;
	char *out, *p;

	for (i = 0; i < d->n; i++)
		len += strlen(d->msgs[i]) + 1;
	if (d->dropped)
		len += 64;
	out = p = malloc(len);
	if (!out)
		return NULL;
	*p = '\0';
	for (i = 0; i < d->n; i++)
		p += sprintf(p, "%s\n", d->msgs[i]);
	if (d->dropped)
		sprintf(p, "(%zu more errors not shown)\n", d->dropped);
	return out;
}

void diags_free(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->n = d->cap = d->dropped = 0;
}
