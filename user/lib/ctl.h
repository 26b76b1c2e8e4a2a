/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Asking ambitd over its control socket (proto.h), for programs other than
 * the daemon: the ambit CLI and the ambit-cni plugin. Both build the same
 * requests with the functions here, so the plugin sends exactly what
 * `ambit pod attach` / `ambit pod detach` send.
 */
#ifndef AMBIT_CTL_H
#define AMBIT_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_reply {
	uint32_t code; /* the command's exit status: 0 success, 1 failure */
	char *out;     /* its standard output text, malloc'd */
	char *err;     /* its error text, malloc'd */
};

/**
 * ctl_call() - send the command @argv (argv[0] is the verb, e.g. "pod")
 * with @body to the daemon at socket @sock and wait for its answer.
 * Return: 0 with @rep filled (free with ctl_reply_free()), or -errno when
 * the daemon cannot be reached or the exchange fails (@rep empty).
 */
int ctl_call(const char *sock, int argc, char *const *argv, const char *body,
	     size_t body_len, struct ctl_reply *rep);

/**
 * ctl_call_timed() - ctl_call() with connect, every send and every receive
 * bounded by @timeout_ms (0: no bound), for callers that must never hang
 * (the CNI plugin runs inside the container runtime's pod setup).
 * Return: as ctl_call(); -ETIMEDOUT when a bound was hit.
 */
int ctl_call_timed(const char *sock, int timeout_ms, int argc,
		   char *const *argv, const char *body, size_t body_len,
		   struct ctl_reply *rep);

/** ctl_reply_free() - release a reply; it is empty afterwards. */
void ctl_reply_free(struct ctl_reply *rep);

#define POD_REQ_MAX_IPS 8
#define POD_REQ_MAX_ARGS (3 + 2 * (4 + POD_REQ_MAX_IPS))

/* A pod's network namespace, as the container runtime (CNI) knows it. */
struct pod_req {
	const char *ns;           /* pod namespace: required */
	const char *name;         /* pod name: required */
	const char *netns;        /* netns path: required to attach */
	const char *container_id; /* the sandbox (CNI_CONTAINERID), or NULL */
	const char *ips[POD_REQ_MAX_IPS]; /* the pod's addresses, may be none */
	size_t n_ips;
};

/* What the CNI plugin asks: on ADD, DEL and CHECK. */
enum pod_verb { POD_ATTACH, POD_DETACH, POD_CHECK };

/**
 * pod_req_argv() - the arguments of `pod attach`, `pod detach` or `pod
 * check` (@verb) for @r into @argv (room for POD_REQ_MAX_ARGS + 1; the
 * strings are @r's, borrowed; NULL-terminated):
 *   pod attach --namespace NS --name POD --netns PATH [--container-id ID]
 *              [--ip ADDR]...
 *   pod detach|check --namespace NS --name POD [--netns PATH]
 *              [--container-id ID]
 * Return: argc, or -EINVAL when a required field is missing.
 */
int pod_req_argv(const struct pod_req *r, enum pod_verb verb, char **argv);

/**
 * pod_request() - pod_req_argv() and ctl_call_timed(): attach, detach or
 * check pod @r. The daemon enrolls an attached pod when its labels say so
 * (its answer, in rep->out, says whether and why); detach unenrolls. Both
 * are idempotent. A detach that names a netns or container id other than
 * the one attached leaves the pod's current attachment alone (a late DEL
 * of an old sandbox). check changes nothing and fails (rep->code 1, why in
 * rep->err) unless the pod is attached to that sandbox and enrolled
 * exactly when its labels say so. Return: as ctl_call_timed(); -EINVAL
 * for a bad @r.
 */
int pod_request(const char *sock, int timeout_ms, const struct pod_req *r,
		enum pod_verb verb, struct ctl_reply *rep);

#endif
