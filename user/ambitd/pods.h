/* SPDX-License-Identifier: Apache-2.0 */
/* The pod table's internals, shared by pods.c, pods_find.c and cmd_pod.c. */
#ifndef AMBITD_PODS_H
#define AMBITD_PODS_H

#include "daemon.h"

/**
 * pods_put() - add or replace (same namespace/name) the binding @b; its
 * strings are copied. Return: 0 or -ENOMEM.
 */
int pods_put(struct daemon *d, const struct pod_binding *b);

/** pods_remove() - remove @b, an entry of the table. */
void pods_remove(struct daemon *d, const struct pod_binding *b);

/** pods_load() - read the persisted table (problems are logged). */
void pods_load(struct daemon *d);

/** pods_save() - persist the table atomically. Return: 0 or -errno. */
int pods_save(const struct daemon *d);

/** ip_parse() - an IPv4 or IPv6 address. Return: 0 or -EINVAL. */
int ip_parse(const char *s, struct ip_addr *out);

/**
 * pods_in_mesh() - does the configuration @all put pod @ns/@name in the
 * mesh? The reason goes to @why.
 */
bool pods_in_mesh(const struct objvec *all, const char *ns, const char *name,
		  char *why, size_t size);

/**
 * pods_reconcile() - a transaction with no change but the Enrollments
 * pods_derive() brings. Return: as daemon_transact().
 */
int pods_reconcile(struct daemon *d, struct sbuf *err);

/**
 * pods_refresh() - forget pods whose namespace is gone (and discovered
 * ones whose Pod is gone or has other addresses), then look for the
 * namespaces of Pods that have none in --netns-dir. What it did goes to
 * @out when not NULL. Return: the number of bindings added or removed.
 */
size_t pods_refresh(struct daemon *d, struct sbuf *out);

#endif
