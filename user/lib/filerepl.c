// SPDX-License-Identifier: Apache-2.0
#include "filerepl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_replace_with(const char *path, mode_t mode,
		      int (*fill)(int fd, void *arg), void *arg)
{
	char tmp[PATH_MAX + 8];
	int fd, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	err = fill(fd, arg);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

struct text {
	const char *p;
	size_t len;
};

static int fill_text(int fd, void *arg)
{
	const struct text *t = arg;

	return write_all(fd, t->p, t->len);
}

int file_replace(const char *path, mode_t mode, const char *text, size_t len)
{
	struct text t = { text, len };

	return file_replace_with(path, mode, fill_text, &t);
}
