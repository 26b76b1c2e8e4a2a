/* SPDX-License-Identifier: Apache-2.0 */
#ifndef AMBIT_CLI_SYNC_H
#define AMBIT_CLI_SYNC_H

/**
 * sync_main() - `ambit sync ARGS` (argv[0] is "sync") against the daemon
 * at @sock. Return: the exit status: 0 when the stream ended cleanly, 1 on
 * a stream error (malformed or truncated JSON, an ERROR event), bad
 * arguments or a daemon that cannot be reached.
 */
int sync_main(const char *sock, int argc, char **argv);

#endif
