// SPDX-License-Identifier: Apache-2.0
/*
 * Pods that existed before ambitd (or whose CNI ADD it missed) have no
 * attachment. Their Pod objects carry status.podIPs; the network namespace
 * holding those addresses, among the bind mounts in --netns-dir (where
 * container runtimes keep pods' namespaces, /var/run/netns by default), is
 * theirs. The node's own namespace is never taken, and an address found in
 * two namespaces binds neither.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "nsutil.h"
#include "pods.h"
#include "strmap.h"

#define NETNS_DIR_MAX 4096 /* entries looked at, at most */
#define NETNS_MAX_ADDRS 64

/* A Pod that needs a namespace found, and what was found for it. */
struct seek {
	const struct object *pod;
	char *netns;    /* malloc'd: the first match */
	bool ambiguous; /* matched more than one namespace */
};

static bool pod_seekable(const struct daemon *d, const struct object *o)
{
	if (o->kind != OBJ_POD || o->pod.host_network || !o->pod.n_ips)
		return false;
	/* A finished pod's sandbox is gone; its addresses may be reused. */
	if (o->pod.phase && (!strcmp(o->pod.phase, "Succeeded") ||
			     !strcmp(o->pod.phase, "Failed")))
		return false;
	return !pods_find(d, o->ns, o->name);
}

static size_t pods_to_seek(const struct daemon *d, struct seek **out)
{
	size_t i, n = 0;

	*out = calloc(d->st.objs.n + 1, sizeof(**out));
	for (i = 0; *out && i < d->st.objs.n; i++) {
		if (pod_seekable(d, d->st.objs.v[i]))
			(*out)[n++].pod = d->st.objs.v[i];
	}
	return n;
}

static bool has_ip(const struct ip_addr *v, size_t n, const struct ip_addr *ip)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!memcmp(&v[i], ip, sizeof(*ip)))
			return true;
	}
	return false;
}

static bool shares_ip(const struct object *pod, const struct ip_addr *v,
		      size_t n)
{
	size_t i;

	for (i = 0; i < pod->pod.n_ips; i++) {
		if (has_ip(v, n, &pod->pod.ips[i]))
			return true;
	}
	return false;
}

/* Which of the sought pods have an address in namespace @path? */
static void match_netns(const char *path, struct seek *s, size_t n)
{
	struct ip_addr addrs[NETNS_MAX_ADDRS];
	size_t na, i;

	if (netns_addrs(path, addrs, NETNS_MAX_ADDRS, &na))
		return; /* not a namespace, or gone: not a pod's */
	for (i = 0; i < n; i++) {
		if (!shares_ip(s[i].pod, addrs, na))
			continue;
		if (s[i].netns)
			s[i].ambiguous = true;
		else
			s[i].netns = strdup(path);
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void scan_dir(const char *dir, struct seek *s, size_t n)
{
	struct stat self, st;
	char path[PATH_MAX];
	struct dirent *de;
	size_t seen = 0;
	DIR *dp = opendir(dir);

	if (!dp) {
		pr_debug("netns dir %s: %s", dir, strerror(errno));
		return;
	}
	if (stat("/proc/self/ns/net", &self) < 0)
		memset(&self, 0, sizeof(self));
	while ((de = readdir(dp)) && seen++ < NETNS_DIR_MAX) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		/* The node's own namespace is never a pod's. */
		if (stat(path, &st) < 0 || same_file(&st, &self))
			continue;
		match_netns(path, s, n);
	}
	closedir(dp);
}

static size_t bind_found(struct daemon *d, struct seek *s, size_t n,
			 struct sbuf *out)
{
	size_t i, added = 0;

	for (i = 0; i < n; i++) {
		const struct object *p = s[i].pod;
		struct pod_binding b = { .ns = (char *)p->ns,
					 .name = (char *)p->name,
					 .netns = s[i].netns,
					 .discovered = true };

		if (!s[i].netns)
			continue;
		if (s[i].ambiguous) {
			pr_warn("pod %s/%s: its address is in several network "
				"namespaces of %s: not bound", p->ns, p->name,
				d->netns_dir);
			continue;
		}
		b.n_ips = p->pod.n_ips < POD_BIND_MAX_IPS ? p->pod.n_ips :
							    POD_BIND_MAX_IPS;
		memcpy(b.ips, p->pod.ips, b.n_ips * sizeof(*b.ips));
		if (pods_put(d, &b))
			continue;
		added++;
		pr_info("pod %s/%s: found its network namespace %s", p->ns,
			p->name, s[i].netns);
		if (out)
			sb_printf(out, "pod %s/%s: found netns %s\n", p->ns,
				  p->name, s[i].netns);
	}
	return added;
}

static size_t discover(struct daemon *d, struct sbuf *out)
{
	struct seek *s;
	size_t n = pods_to_seek(d, &s), i, added = 0;

	if (n)
		scan_dir(d->netns_dir, s, n);
	if (n)
		added = bind_found(d, s, n, out);
	for (i = 0; s && i < n; i++)
		free(s[i].netns);
	free(s);
	return added;
}

/* Why @b no longer holds, or NULL when it does. @pods: Pods by ns/name. */
static const char *stale(const struct strmap *pods, const struct pod_binding *b)
{
	const struct object *pod;
	char key[600];

	if (access(b->netns, F_OK) < 0)
		return "its network namespace is gone";
	if (!b->discovered)
		return NULL; /* CNI's word holds until its DEL */
	pod = strmap_get(pods, nsname_key(key, sizeof(key), b->ns, b->name));
	if (!pod)
		return "its Pod is gone";
	if (!shares_ip(pod, b->ips, b->n_ips))
		return "its Pod has other addresses now";
	return NULL;
}

static size_t forget_stale(struct daemon *d, struct sbuf *out)
{
	struct strmap pods = {};
	size_t i = 0, n = 0;
	const char *why;
	char key[600];

	for (i = 0; i < d->st.objs.n; i++) {
		const struct object *o = d->st.objs.v[i];

		if (o->kind == OBJ_POD &&
		    strmap_add(&pods, nsname_key(key, sizeof(key), o->ns,
						 o->name), (void *)o)) {
			strmap_free(&pods);
			return 0; /* out of memory: try again next time */
		}
	}
	i = 0;
	while (i < d->pods.n) {
		const struct pod_binding *b = &d->pods.v[i];

		why = stale(&pods, b);
		if (!why) {
			i++;
			continue;
		}
		pr_info("pod %s/%s: forgotten: %s", b->ns, b->name, why);
		if (out)
			sb_printf(out, "pod %s/%s: forgotten: %s\n", b->ns,
				  b->name, why);
		pods_remove(d, b);
		n++;
	}
	strmap_free(&pods);
	return n;
}

size_t pods_refresh(struct daemon *d, struct sbuf *out)
{
	size_t n = forget_stale(d, out);

	n += discover(d, out);
	if (n)
		pods_save(d);
	return n;
}

void pods_start(struct daemon *d)
{
	struct sbuf err = {};

	pods_load(d);
	pods_refresh(d, NULL);
	if (pods_reconcile(d, &err))
		pr_err("enrollment by labels: %s", sb_str(&err));
	sb_free(&err);
	pr_info("%zu pods with a known network namespace", d->pods.n);
}

void pods_after_sync(struct daemon *d, struct sbuf *out)
{
	struct sbuf err = {};

	if (!pods_refresh(d, out))
		return;
	if (pods_reconcile(d, &err))
		sb_printf(out, "%s", sb_str(&err));
	sb_free(&err);
}
