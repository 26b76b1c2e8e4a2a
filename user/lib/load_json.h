/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON -> model, for `ambit sync`: a Kubernetes object as the API server
 * (and kubectl -o json) gives it. The JSON is turned into the loader's own
 * tree (ytree.h) and converted by the same code as YAML, so both inputs
 * mean exactly the same thing and are checked by the same rules.
 */
#ifndef AMBIT_LOAD_JSON_H
#define AMBIT_LOAD_JSON_H

#include <jansson.h>

#include "diag.h"
#include "objvec.h"

/**
 * model_load_json() - load @obj, one Kubernetes object or a `kind: List`,
 * as model_load() loads a YAML document. JSON has no positions: messages
 * begin with @where, which says what was read ("<stdin>: event 12: Service
 * shop/web"), followed by the field path. The hostile-input limits of
 * load.h (depth, nodes, scalar size) apply.
 *
 * Return: 0 with the objects appended to @out; -EINVAL when anything did
 * not load, with the reasons in @d and nothing appended; -ENOMEM.
 */
int model_load_json(const char *where, const json_t *obj, struct objvec *out,
		    struct diags *d);

#endif
