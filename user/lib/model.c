// SPDX-License-Identifier: Apache-2.0
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objvec.h"

const char *obj_kind_name(int kind)
{
	switch (kind) {
	case OBJ_SERVICE:
		return "Service";
	case OBJ_ENDPOINT_SLICE:
		return "EndpointSlice";
	case OBJ_HTTP_ROUTE:
		return "HTTPRoute";
	case OBJ_ENROLLMENT:
		return "Enrollment";
	case OBJ_POD:
		return "Pod";
	case OBJ_NAMESPACE:
		return "Namespace";
	default:
		return "unknown";
	}
}

bool obj_cluster_scoped(int kind)
{
	return kind == OBJ_NAMESPACE;
}

const char *obj_label(const struct object *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->n_labels; i++) {
		if (!strcmp(o->labels[i].key, key))
			return o->labels[i].value;
	}
	return NULL;
}

const char *obj_nsname(const struct object *o, char *buf, size_t size)
{
	if (obj_cluster_scoped(o->kind) || !o->ns || !*o->ns)
		snprintf(buf, size, "%s", o->name);
	else
		snprintf(buf, size, "%s/%s", o->ns, o->name);
	return buf;
}

/* A decimal resourceVersion without sign or leading zeros, as etcd's. */
static bool rv_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

bool rv_older(const char *a, const char *b)
{
	uint64_t x, y;

	return rv_parse(a, &x) && rv_parse(b, &y) && x < y;
}

void obj_free(struct object *o)
{
	if (!o)
		return;
	arena_free(&o->arena);
	free(o);
}

const struct object *model_find(const struct objvec *all, int kind,
				const char *ns, const char *name)
{
	size_t i;

	if (!ns)
		ns = "default";
	for (i = 0; i < all->n; i++) {
		const struct object *o = all->v[i];

		if (o->kind == kind && !strcmp(o->ns, ns) &&
		    !strcmp(o->name, name))
			return o;
	}
	return NULL;
}

const struct svc_port *service_port(const struct service *s, uint16_t port)
{
	size_t i;

	for (i = 0; i < s->n_ports; i++) {
		if (s->ports[i].port == port)
			return &s->ports[i];
	}
	return NULL;
}
