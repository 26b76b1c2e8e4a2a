/* SPDX-License-Identifier: Apache-2.0 */
/* Cross-object checks over a complete candidate configuration. */
#ifndef AMBIT_VALIDATE_H
#define AMBIT_VALIDATE_H

#include <stdbool.h>

#include "diag.h"
#include "objvec.h"

struct validate_opts {
	/*
	 * Accept references to Services (or ports) that do not exist; the
	 * route is then reported ResolvedRefs=False and the traffic that
	 * would go there fails, as the Gateway API says. `ambit sync` needs
	 * this because objects arrive in any order; `ambit apply` does not
	 * set it, so a typo is an error instead of a silent outage.
	 */
	bool allow_unresolved;
};

/**
 * model_validate() - check @all as one configuration: duplicate objects,
 * parentRefs that are not Services (or name missing ones), backendRefs to
 * missing Services or ports, Enrollments naming the same cgroup/netns twice,
 * EndpointSlices of missing Services (allowed: a warning-free no-op).
 *
 * Return: 0 when valid; -EINVAL with the reasons in @d.
 */
int model_validate(const struct objvec *all, const struct validate_opts *o,
		   struct diags *d);

#endif
