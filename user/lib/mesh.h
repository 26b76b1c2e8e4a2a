/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrollment by labels, the way ambient meshes do it: a pod is in the mesh
 * when its namespace or the pod itself carries istio.io/dataplane-mode:
 * ambient (Istio compatible) or ambit.io/mode: ambient; a pod label with
 * the value "none" opts the pod out.
 */
#ifndef AMBIT_MESH_H
#define AMBIT_MESH_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

#define MESH_LABEL_ISTIO "istio.io/dataplane-mode"
#define MESH_LABEL_AMBIT "ambit.io/mode"
/* Enrollments ambitd derives from labels carry this label (value ambitd). */
#define MESH_MANAGED_LABEL "ambit.io/managed-by"
#define MESH_MANAGED_VALUE "ambitd"

/**
 * mesh_decide() - is the pod with Pod object @pod in namespace object @ns
 * in the mesh? Either may be NULL: not known (yet). The pod's own label
 * wins over its namespace's; "none" wins over "ambient" on one object; a
 * hostNetwork pod shares the node's namespace and is never in.
 * Return: true when in; @why (may be NULL) says which label decided.
 */
bool mesh_decide(const struct object *pod, const struct object *ns,
		 char *why, size_t size);

/** mesh_managed() - an Enrollment ambitd made from labels? */
bool mesh_managed(const struct object *o);

#endif
