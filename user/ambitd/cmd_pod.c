// SPDX-License-Identifier: Apache-2.0
/*
 * ambit pod attach / detach / check: what the ambit-cni plugin says on CNI
 * ADD, DEL and CHECK (the same requests, built by ctl.h's pod_req_argv()).
 * Attach records which network namespace a pod has and enrolls it when its
 * labels say ambient; detach forgets it, which unenrolls it. Both are
 * idempotent, as CNI requires of DEL. Check changes nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "daemon.h"
#include "log.h"
#include "mesh.h"
#include "nsutil.h"
#include "pods.h"

struct pod_opts {
	const char *ns;
	const char *name;
	const char *netns;
	const char *container_id;
	const char *ips[POD_REQ_MAX_IPS];
	size_t n_ips;
};

static int parse_pod_opts(struct request *rq, struct pod_opts *o,
			  struct sbuf *err)
{
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'N' },
		{ "netns", required_argument, NULL, 'n' },
		{ "container-id", required_argument, NULL, 'c' },
		{ "ip", required_argument, NULL, 'i' },
		{},
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	/* From "attach": getopt takes it for the program name. */
	while ((c = getopt_long(rq->argc - 1, rq->argv + 1, "", opts,
				NULL)) != -1) {
		switch (c) {
		case 's': o->ns = optarg; break;
		case 'N': o->name = optarg; break;
		case 'n': o->netns = optarg; break;
		case 'c': o->container_id = optarg; break;
		case 'i':
			if (o->n_ips == POD_REQ_MAX_IPS) {
				sb_printf(err, "error: pod: more than %d --ip\n",
					  POD_REQ_MAX_IPS);
				return -EINVAL;
			}
			o->ips[o->n_ips++] = optarg;
			break;
		default:
			sb_printf(err, "error: pod %s: unknown option '%s'\n",
				  rq->argv[1], rq->argv[optind]);
			return -EINVAL;
		}
	}
	if (optind != rq->argc - 1 || !o->ns || !*o->ns || !o->name || !*o->name) {
		sb_printf(err, "error: pod %s: --namespace NS and --name POD are "
			  "required (ambit pod --help)\n", rq->argv[1]);
		return -EINVAL;
	}
	return 0;
}

/* The binding an attach asks for, checked. */
static int attach_binding(const struct pod_opts *o, struct pod_binding *b,
			  struct sbuf *err)
{
	__u64 cookie;
	size_t i;
	int ret;

	memset(b, 0, sizeof(*b));
	if (!o->netns || o->netns[0] != '/') {
		sb_printf(err, "error: pod attach: --netns PATH (absolute) is "
			  "required\n");
		return -EINVAL;
	}
	ret = netns_cookie_of(o->netns, &cookie);
	if (ret) {
		sb_printf(err, "error: pod attach %s/%s: netns %s: %s\n", o->ns,
			  o->name, o->netns, strerror(-ret));
		return ret;
	}
	for (i = 0; i < o->n_ips; i++) {
		if (ip_parse(o->ips[i], &b->ips[b->n_ips++])) {
			sb_printf(err, "error: pod attach: --ip %s: not an IP "
				  "address\n", o->ips[i]);
			return -EINVAL;
		}
	}
	b->ns = (char *)o->ns;
	b->name = (char *)o->name;
	b->netns = (char *)o->netns;
	b->container_id = (char *)o->container_id;
	return 0;
}

static void say_decision(struct daemon *d, const char *ns, const char *name,
			 struct sbuf *out)
{
	char why[256];
	bool in = pods_in_mesh(&d->st.objs, ns, name, why, sizeof(why));

	sb_printf(out, "%s (%s)\n", in ? "enrolled" : "not enrolled", why);
}

static int pod_attach(struct daemon *d, const struct pod_opts *o,
		      struct sbuf *out, struct sbuf *err)
{
	struct pod_binding b;
	int ret = attach_binding(o, &b, err);

	if (ret)
		return 1;
	if (pods_put(d, &b)) {
		sb_printf(err, "error: out of memory\n");
		return 1;
	}
	pods_save(d);
	pr_info("pod %s/%s: attached netns %s%s%s", o->ns, o->name, o->netns,
		o->container_id ? " container " : "",
		o->container_id ? o->container_id : "");
	/* The attachment stands even if enrolling fails: it is a fact about
	 * the node, and the next change retries. */
	if (pods_reconcile(d, err))
		return 1;
	sb_printf(out, "pod %s/%s attached (netns %s): ", o->ns, o->name,
		  o->netns);
	say_decision(d, o->ns, o->name, out);
	return 0;
}

/* A DEL for an older sandbox of the pod must not undo the current one. */
static bool other_sandbox(const struct pod_binding *b, const struct pod_opts *o)
{
	if (o->container_id && b->container_id &&
	    strcmp(o->container_id, b->container_id))
		return true;
	return o->netns && strcmp(o->netns, b->netns);
}

static int pod_detach(struct daemon *d, const struct pod_opts *o,
		      struct sbuf *out, struct sbuf *err)
{
	const struct pod_binding *b = pods_find(d, o->ns, o->name);

	if (!b) {
		sb_printf(out, "pod %s/%s was not attached: nothing to do\n",
			  o->ns, o->name);
		return 0;
	}
	if (other_sandbox(b, o)) {
		sb_printf(out, "pod %s/%s is attached to another sandbox (netns "
			  "%s): left alone\n", o->ns, o->name, b->netns);
		return 0;
	}
	pods_remove(d, b);
	pods_save(d);
	pr_info("pod %s/%s: detached", o->ns, o->name);
	if (pods_reconcile(d, err))
		return 1;
	sb_printf(out, "pod %s/%s detached: not enrolled\n", o->ns, o->name);
	return 0;
}

/* The data plane's entry for @netns: 1 enrolled, 0 none, -errno when an
 * Enrollment names it but it could not be resolved. A managed one (from
 * labels) is reported in *@managed. */
static int netns_enrolled(const struct daemon *d, const char *netns,
			  bool *managed)
{
	__u64 cookie;
	size_t i;

	*managed = false;
	for (i = 0; i < d->en.n; i++) {
		const struct enrolled *e = &d->en.v[i];

		if (e->kind != AMBIT_ENROLL_NETNS || !e->obj->enr.netns_path ||
		    strcmp(e->obj->enr.netns_path, netns))
			continue;
		*managed = mesh_managed(e->obj);
		if (e->err)
			return e->err;
		/* The namespace now at that path must be the one enrolled
		 * (not a newer one made at the same path since). */
		if (netns_cookie_of(netns, &cookie) || cookie != e->id)
			return -ESTALE;
		return 1;
	}
	return 0;
}

/* CNI CHECK: the pod is attached to this sandbox, and enrolled exactly when
 * its labels say so. An Enrollment the operator made by hand for a pod the
 * labels leave out is their choice, not a fault. */
static int pod_check(struct daemon *d, const struct pod_opts *o,
		     struct sbuf *out, struct sbuf *err)
{
	const struct pod_binding *b = pods_find(d, o->ns, o->name);
	char why[256];
	bool in, managed;
	int state;

	if (!b || other_sandbox(b, o)) {
		sb_printf(err, "error: pod %s/%s is not attached%s%s%s\n", o->ns,
			  o->name, b ? " to this sandbox (it has netns " : "",
			  b ? b->netns : "", b ? ")" : "");
		return 1;
	}
	in = pods_in_mesh(&d->st.objs, o->ns, o->name, why, sizeof(why));
	state = netns_enrolled(d, b->netns, &managed);
	if (in && state != 1) {
		sb_printf(err, "error: pod %s/%s should be enrolled (%s) but its "
			  "netns %s is not: %s\n", o->ns, o->name, why, b->netns,
			  state == -ESTALE ? "another namespace is at that path now" :
			  state < 0 ? strerror(-state) : "no enrollment");
		return 1;
	}
	if (!in && state == 1 && managed) {
		sb_printf(err, "error: pod %s/%s is enrolled but should not be "
			  "(%s)\n", o->ns, o->name, why);
		return 1;
	}
	sb_printf(out, "pod %s/%s attached (netns %s): %s (%s)\n", o->ns,
		  o->name, b->netns, state == 1 ? "enrolled" : "not enrolled", why);
	return 0;
}

int cmd_pod(struct daemon *d, struct request *rq, struct sbuf *out,
	    struct sbuf *err)
{
	const char *verb = rq->argc > 1 ? rq->argv[1] : "";
	struct pod_opts o;

	if (strcmp(verb, "attach") && strcmp(verb, "detach") &&
	    strcmp(verb, "check")) {
		sb_printf(err, "error: pod: attach, detach or check? (ambit pod "
			  "--help)\n");
		return 1;
	}
	if (parse_pod_opts(rq, &o, err))
		return 1;
	if (!strcmp(verb, "attach"))
		return pod_attach(d, &o, out, err);
	if (!strcmp(verb, "check"))
		return pod_check(d, &o, out, err);
	return pod_detach(d, &o, out, err);
}
