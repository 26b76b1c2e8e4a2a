/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listening sockets handed from one process to another (SCM_RIGHTS over a
 * Unix SOCK_SEQPACKET socket), so a proxy can be replaced without a moment
 * in which its port refuses connections: the new process takes the very
 * same sockets, with whatever the kernel has queued on them, and the old
 * one only stops accepting once the new one says it is serving.
 *
 *   taker -> holder:  "TAKE" (hand over, then drain) or "KEEP" (a copy)
 *   holder -> taker:  "FDS" + up to HANDOFF_BATCH fds, repeated; "END"
 *   taker -> holder:  "DONE" (TAKE only: serving, the holder may go)
 */
#ifndef AMBIT_HANDOFF_H
#define AMBIT_HANDOFF_H

#include <stddef.h>

#define HANDOFF_BATCH 64      /* fds per message */
#define HANDOFF_MAX_FDS 65536 /* a taker refuses more than this */
#define HANDOFF_TIMEOUT_MS 5000

/**
 * handoff_listen() - a holder's socket at @path (0600), put in place by an
 * atomic rename so a taker never finds the path missing between holders.
 * Return: the listening fd or -errno.
 */
int handoff_listen(const char *path);

/** handoff_connect() - a taker's connection to @path; fd or -errno. */
int handoff_connect(const char *path);

/** handoff_send_word() / handoff_recv_word() - one short message. */
int handoff_send_word(int sock, const char *word);
int handoff_recv_word(int sock, char *buf, size_t size, int timeout_ms);

/** handoff_send_fds() - @n fds in batches, then "END". 0 or -errno. */
int handoff_send_fds(int sock, const int *fds, size_t n);

/**
 * handoff_recv_fds() - receive what handoff_send_fds() sent, close-on-exec.
 * Return: 0 with *@fds malloc'd (*@n of them, maybe none), or -errno (no
 * fd left open).
 */
int handoff_recv_fds(int sock, int **fds, size_t *n, int timeout_ms);

#endif
