/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CLI <-> daemon protocol over the Unix control socket. The CLI is a
 * thin transport: it sends its arguments and the input file, the daemon
 * (which holds the configuration) does the work and sends back an exit code
 * with the text for stdout and for stderr.
 *
 *   request: u32 argc, argc x (u32 len, bytes), u64 body_len, body
 *   reply:   u32 code, u64 out_len, out, u64 err_len, err
 * Integers are host order: both ends are on the same machine.
 */
#ifndef AMBIT_PROTO_H
#define AMBIT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAX_ARGS 64
#define PROTO_MAX_ARG 4096
#define PROTO_MAX_BODY (64u << 20) /* LOAD_MAX_BYTES */
#define PROTO_MAX_REPLY (256u << 20)

struct request {
	int argc;
	char *argv[PROTO_MAX_ARGS + 1]; /* NULL-terminated, malloc'd */
	char *body;                     /* NUL-terminated, malloc'd */
	size_t body_len;
};

struct sockaddr_un;

/** unix_addr() - fill @sa for @path; 0 or -ENAMETOOLONG. */
int unix_addr(struct sockaddr_un *sa, const char *path);

/** proto_send_request() - 0 or -errno. */
int proto_send_request(int fd, int argc, char *const *argv, const char *body,
		       size_t body_len);

/** proto_recv_request() - 0, -errno, or -EMSGSIZE past the limits. */
int proto_recv_request(int fd, struct request *rq);

/** request_free() - release what proto_recv_request() allocated. */
void request_free(struct request *rq);

/** proto_send_reply() - 0 or -errno. */
int proto_send_reply(int fd, uint32_t code, const char *out, size_t out_len,
		     const char *err, size_t err_len);

/** proto_recv_reply() - 0 or -errno; *out / *err malloc'd, NUL-terminated. */
int proto_recv_reply(int fd, uint32_t *code, char **out, char **err);

#endif
