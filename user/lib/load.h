/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML → model. Reads standard Kubernetes YAML: several documents per file
 * and `kind: List` (what `kubectl get -o yaml` prints). Unknown fields are
 * ignored as Kubernetes clients do; unknown kinds are an error.
 */
#ifndef AMBIT_LOAD_H
#define AMBIT_LOAD_H

#include <stddef.h>

#include "diag.h"
#include "objvec.h"

/* Hard limits on hostile input: refused with a clear error. */
#define LOAD_MAX_BYTES (64u << 20)   /* one apply */
#define LOAD_MAX_OBJECTS 1000000u
#define LOAD_MAX_DEPTH 64            /* YAML nesting */
#define LOAD_MAX_SCALAR (1u << 20)   /* one scalar value */
/*
 * YAML nodes in one document: bounds the parse tree (~50 bytes a node) of
 * a single document or `kind: List`; 4M nodes is ~100k typical objects.
 */
#define LOAD_MAX_NODES (1u << 22)

/**
 * model_load() - parse @len bytes of YAML named @file (used in messages).
 *
 * Each object found is appended to @out with obj->yaml set to the object
 * re-emitted as a standalone YAML document (so it can be persisted and
 * printed by `ambit get -o yaml`). Per-object checks (types, required
 * fields, value ranges, regex syntax) are done here; cross-object checks are
 * model_validate()'s.
 *
 * Return: 0 when every document loaded; -EINVAL when any did not, with the
 * reasons in @d and nothing appended to @out (all or nothing); -ENOMEM.
 */
int model_load(const char *file, const char *buf, size_t len,
	       struct objvec *out, struct diags *d);

#endif
