// SPDX-License-Identifier: Apache-2.0
#include "mesh.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { MODE_UNSET = 0, MODE_AMBIENT, MODE_NONE };

/* The mode an object's labels ask for; the key that said it in *@key. */
static int label_mode(const struct object *o, const char **key)
{
	static const char *const keys[] = { MESH_LABEL_ISTIO, MESH_LABEL_AMBIT };
	int mode = MODE_UNSET;
	size_t i;

	for (i = 0; o && i < 2; i++) {
		const char *v = obj_label(o, keys[i]);

		if (v && !strcmp(v, "none")) {
			*key = keys[i];
			return MODE_NONE; /* opting out is never overridden */
		}
		if (v && !strcmp(v, "ambient") && !mode) {
			*key = keys[i];
			mode = MODE_AMBIENT;
		}
	}
	return mode;
}

static bool say(char *why, size_t size, bool in, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Return @in, with the reason for it in @why. */
static bool say(char *why, size_t size, bool in, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return in;
}

bool mesh_decide(const struct object *pod, const struct object *ns,
		 char *why, size_t size)
{
	const char *key = NULL;
	int mode;

	if (pod && pod->pod.host_network)
		return say(why, size, false, "hostNetwork pod: it shares the "
			   "node's network namespace");
	mode = label_mode(pod, &key);
	if (mode == MODE_NONE)
		return say(why, size, false, "opted out: pod label %s=none",
			   key);
	if (mode == MODE_AMBIENT)
		return say(why, size, true, "pod label %s=ambient", key);
	mode = label_mode(ns, &key);
	if (mode == MODE_AMBIENT)
		return say(why, size, true, "namespace label %s=ambient", key);
	if (mode == MODE_NONE)
		return say(why, size, false, "namespace label %s=none", key);
	if (!ns)
		return say(why, size, false, "no ambient label on the pod, and "
			   "its Namespace is not known");
	return say(why, size, false, "no ambient label on the pod or its "
		   "namespace");
}

bool mesh_managed(const struct object *o)
{
	const char *v = o->kind == OBJ_ENROLLMENT ?
			obj_label(o, MESH_MANAGED_LABEL) : NULL;

	return v && !strcmp(v, MESH_MANAGED_VALUE);
}
