/* SPDX-License-Identifier: Apache-2.0 */
/* ambit-cni: one request to ambitd over its control socket, with a
 * deadline (a CNI plugin must never hang the runtime). */
#ifndef AMBIT_CNI_CALL_H
#define AMBIT_CNI_CALL_H

#include <stdint.h>

#include "cni.h"

struct ambitd_reply {
	uint32_t code; /* ambitd's exit code: 0 done, else refused */
	char *out;     /* what the CLI would print on stdout; malloc'd */
	char *err;     /* ... and on stderr; malloc'd */
};

/**
 * ambitd_call() - send @av to ambitd at @sock the way the ambit CLI does
 * (lib/proto.h) and read its answer, each socket operation bounded by
 * @timeout_ms. Returns 0 with @r filled (free with ambitd_reply_free()),
 * or -errno when ambitd could not be reached or the exchange broke off
 * (-ETIMEDOUT past the deadline): the caller decides what that means.
 */
int ambitd_call(const char *sock, int timeout_ms, const struct cni_argv *av,
		struct ambitd_reply *r);

/** ambitd_reply_free() - release the texts of @r. */
void ambitd_reply_free(struct ambitd_reply *r);

#endif
