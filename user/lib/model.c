// SPDX-License-Identifier: Apache-2.0
#include "model.h"

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
	default:
		return "unknown";
	}
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
