/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files replaced whole: written to PATH.tmp, synced, renamed over PATH, so
 * a reader (the proxy following the configuration, a restarted daemon)
 * sees the old content or the new, never a part.
 */
#ifndef AMBIT_FILEREPL_H
#define AMBIT_FILEREPL_H

#include <stddef.h>
#include <sys/types.h>

/** write_all() - all @len bytes of @buf to @fd; 0 or -errno. */
int write_all(int fd, const char *buf, size_t len);

/**
 * file_replace_with() - replace @path (created with @mode) by what @fill
 * writes to the fd it is given. Return: 0, or -errno (from @fill too),
 * with @path untouched and no temporary file left.
 */
int file_replace_with(const char *path, mode_t mode,
		      int (*fill)(int fd, void *arg), void *arg);

/** file_replace() - replace @path by @len bytes of @text. */
int file_replace(const char *path, mode_t mode, const char *text, size_t len);

#endif
