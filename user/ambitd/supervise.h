/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ambitd runs ambit-proxy and keeps it running: a proxy that dies is
 * started again (with backoff), with copies of its listening sockets that
 * the daemon keeps, so connections that arrive in between wait in the
 * kernel's queue for the new proxy instead of being refused. The proxy outlives the daemon on purpose,
 * like the pinned data plane: a restarted daemon adopts the running proxy
 * (its pid is in the state directory) instead of starting a second one.
 */
#ifndef AMBITD_SUPERVISE_H
#define AMBITD_SUPERVISE_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#define SUP_MAX_ARGS 32
#define SUP_MAX_RETIRING 8

struct supervisor {
	char *argv[SUP_MAX_ARGS + 1]; /* the proxy's command line */
	char pidfile[PATH_MAX];
	pid_t pid;          /* 0: not running */
	int ours;           /* our child (waitpid) or adopted (kill 0) */
	uint64_t next_start; /* backoff: not before this (ms) */
	uint64_t started_at;
	uint32_t backoff_ms;
	uint32_t restarts;
	char ready_file[PATH_MAX + 16]; /* the proxy writes it once serving */
	pid_t retiring[SUP_MAX_RETIRING]; /* replaced children, draining */
	char handoff[PATH_MAX + 16];  /* the proxy's listener handoff socket */
	int *kept;          /* copies of the proxy's listening sockets */
	size_t n_kept;
	uint64_t next_keep; /* refresh them then (ms) */
};

/**
 * sup_init() - prepare to run @bin with its options for this daemon: the
 * proxy port and socket mark, the state file, the pin directory, plus
 * @extra (NULL-ended).
 * Adopts a running proxy recorded in @state_dir. Return: 0 or -errno.
 */
int sup_init(struct supervisor *s, const char *bin, uint16_t port,
	     uint32_t mark, const char *state_dir, const char *bpffs, char *const *extra);

/** sup_tick() - (re)start the proxy when it is not running; cheap. */
void sup_tick(struct supervisor *s, uint64_t now_ms);

/**
 * sup_reload() - replace the running proxy without refusing a connection:
 * start a new one (the binary now at the same path, so this also
 * upgrades), which takes over the listening sockets; the old one drains
 * and exits. Waits until the new one serves. Return: 0 or -errno, with
 * what happened in @msg.
 */
int sup_reload(struct supervisor *s, char *msg, size_t size);

/** sup_stop() - stop the proxy (it drains), for a clean teardown. */
void sup_stop(struct supervisor *s);

/** sup_free() - forget the command line (the proxy keeps running). */
void sup_free(struct supervisor *s);

#endif
