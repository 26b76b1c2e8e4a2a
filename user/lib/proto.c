// SPDX-License-Identifier: Apache-2.0
#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A length-prefixed blob of at most @max bytes, NUL-terminated. */
static int read_blob(int fd, size_t max, int wide, char **out, size_t *len)
{
	uint64_t n64 = 0;
	uint32_t n32 = 0;
	int err;

	err = wide ? read_full(fd, &n64, sizeof(n64)) :
		     read_full(fd, &n32, sizeof(n32));
	if (err)
		return err;
	if (!wide)
		n64 = n32;
	if (n64 > max)
		return -EMSGSIZE;
	*out = malloc(n64 + 1);
	if (!*out)
		return -ENOMEM;
	err = read_full(fd, *out, n64);
	(*out)[n64] = '\0';
	if (len)
		*len = n64;
	return err;
}

static int write_blob(int fd, int wide, const char *p, size_t len)
{
	uint64_t n64 = len;
	uint32_t n32 = (uint32_t)len;
	int err;

	err = wide ? write_full(fd, &n64, sizeof(n64)) :
		     write_full(fd, &n32, sizeof(n32));
	return err ? err : write_full(fd, p, len);
}

int proto_send_request(int fd, int argc, char *const *argv, const char *body,
		       size_t body_len)
{
	uint32_t n = (uint32_t)argc;
	int i, err;

	if (argc > PROTO_MAX_ARGS || body_len > PROTO_MAX_BODY)
		return -EMSGSIZE;
	err = write_full(fd, &n, sizeof(n));
	for (i = 0; !err && i < argc; i++) {
		if (strlen(argv[i]) > PROTO_MAX_ARG)
			return -EMSGSIZE;
		err = write_blob(fd, 0, argv[i], strlen(argv[i]));
	}
	return err ? err : write_blob(fd, 1, body ? body : "", body_len);
}

int proto_recv_request(int fd, struct request *rq)
{
	uint32_t n;
	int err;

	memset(rq, 0, sizeof(*rq));
	err = read_full(fd, &n, sizeof(n));
	if (err)
		return err;
	if (n > PROTO_MAX_ARGS)
		return -EMSGSIZE;
	for (rq->argc = 0; rq->argc < (int)n; rq->argc++) {
		err = read_blob(fd, PROTO_MAX_ARG, 0, &rq->argv[rq->argc], NULL);
		if (err) {
			free(rq->argv[rq->argc]);
			rq->argv[rq->argc] = NULL;
			return err;
		}
	}
	return read_blob(fd, PROTO_MAX_BODY, 1, &rq->body, &rq->body_len);
}

void request_free(struct request *rq)
{
	int i;

	for (i = 0; i < rq->argc; i++)
		free(rq->argv[i]);
	free(rq->body);
	memset(rq, 0, sizeof(*rq));
}

int proto_send_reply(int fd, uint32_t code, const char *out, size_t out_len,
		     const char *err, size_t err_len)
{
	int e = write_full(fd, &code, sizeof(code));

	if (!e)
		e = write_blob(fd, 1, out, out_len);
	return e ? e : write_blob(fd, 1, err, err_len);
}

int proto_recv_reply(int fd, uint32_t *code, char **out, char **err)
{
	int e;

	*out = *err = NULL;
	e = read_full(fd, code, sizeof(*code));
	if (!e)
		e = read_blob(fd, PROTO_MAX_REPLY, 1, out, NULL);
	return e ? e : read_blob(fd, PROTO_MAX_REPLY, 1, err, NULL);
}
