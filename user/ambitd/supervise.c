// SPDX-License-Identifier: Apache-2.0
#include "supervise.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filerepl.h"
#include "handoff.h"
#include "log.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define READY_WAIT_MS 15000
#define KEEP_EVERY_MS 1000 /* pods come and go: their listeners too */
#define KEEP_WAIT_MS 500

static int add_arg(struct supervisor *s, int *n, const char *a)
{
	if (*n >= SUP_MAX_ARGS || !(s->argv[*n] = strdup(a)))
		return -E2BIG;
	(*n)++;
	return 0;
}

/* A pid from the file that is alive and runs the same binary. */
static pid_t adoptable(const struct supervisor *s)
{
	char exe[PATH_MAX], link[64];
	FILE *f = fopen(s->pidfile, "re");
	long pid = 0;
	ssize_t n;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
	n = pid > 0 ? readlink(link, exe, sizeof(exe) - 1) : -1;
	if (n < 0)
		return 0;
	exe[n] = '\0';
	return strcmp(exe, s->argv[0]) ? 0 : (pid_t)pid;
}

int sup_init(struct supervisor *s, const char *bin, uint16_t port,
	     uint32_t mark, const char *state_dir, const char *bpffs, char *const *extra)
{
	char buf[PATH_MAX], portbuf[8], markbuf[16];
	int n = 0, err;

	memset(s, 0, sizeof(*s));
	if (!realpath(bin, buf))
		return -errno;
	snprintf(portbuf, sizeof(portbuf), "%u", port);
	err = add_arg(s, &n, buf);
	if (!err)
		err = add_arg(s, &n, "--port") ?: add_arg(s, &n, portbuf);
	snprintf(buf, sizeof(buf), "%s/config.yaml", state_dir);
	if (!err)
		err = add_arg(s, &n, "--config") ?: add_arg(s, &n, buf);
	/* The BPF programs exempt sockets with this mark: the proxy must
	 * mark its upstream sockets with the very same one. */
	snprintf(markbuf, sizeof(markbuf), "0x%x", mark);
	if (!err)
		err = add_arg(s, &n, "--mark") ?: add_arg(s, &n, markbuf);
	if (!err)
		err = add_arg(s, &n, "--bpffs") ?: add_arg(s, &n, bpffs);
	snprintf(s->ready_file, sizeof(s->ready_file), "%s/ambit-proxy.ready",
		 state_dir);
	snprintf(s->handoff, sizeof(s->handoff), "%s/ambit-proxy.sock", state_dir);
	if (!err)
		err = add_arg(s, &n, "--ready-file") ?: add_arg(s, &n, s->ready_file);
	for (; !err && extra && *extra; extra++)
		err = add_arg(s, &n, *extra);
	snprintf(s->pidfile, sizeof(s->pidfile), "%s/ambit-proxy.pid", state_dir);
	s->backoff_ms = BACKOFF_MIN_MS;
	s->pid = err ? 0 : adoptable(s);
	if (s->pid)
		pr_info("adopted the running ambit-proxy (pid %d)", (int)s->pid);
	return err;
}

static void write_pidfile(const struct supervisor *s)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%d\n", (int)s->pid);

	file_replace(s->pidfile, 0644, text, (size_t)n);
}

static void drop_kept(struct supervisor *s)
{
	while (s->n_kept)
		close(s->kept[--s->n_kept]);
	free(s->kept);
	s->kept = NULL;
}

/* Ask the running proxy for copies of its listeners (it keeps serving). */
static void refresh_kept(struct supervisor *s, uint64_t now)
{
	int sock, *fds;
	size_t n;

	if (now < s->next_keep || access(s->ready_file, F_OK))
		return;
	s->next_keep = now + KEEP_EVERY_MS;
	sock = handoff_connect(s->handoff);
	if (sock < 0)
		return;
	if (!handoff_send_word(sock, "KEEP") &&
	    !handoff_recv_fds(sock, &fds, &n, KEEP_WAIT_MS)) {
		drop_kept(s);
		s->kept = fds;
		s->n_kept = n;
	}
	close(sock);
}

/* In the child: the kept sockets at fd 3.., announced the systemd way. */
static void pass_kept(const struct supervisor *s)
{
	char num[16];
	size_t i;
	int fd;

	for (i = 0; i < s->n_kept; i++) { /* out of the way of 3..3+n first */
		fd = fcntl(s->kept[i], F_DUPFD_CLOEXEC, 3 + (int)s->n_kept);
		if (fd < 0)
			_exit(126);
		s->kept[i] = fd;
	}
	for (i = 0; i < s->n_kept; i++) {
		if (dup2(s->kept[i], 3 + (int)i) < 0) /* clears close-on-exec */
			_exit(126);
	}
	snprintf(num, sizeof(num), "%zu", s->n_kept);
	setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof(num), "%d", (int)getpid());
	setenv("LISTEN_PID", num, 1);
}

static void start(struct supervisor *s, bool with_kept)
{
	pid_t pid;

	unlink(s->ready_file);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid(); /* its own session: it outlives us on purpose */
		if (with_kept && s->n_kept)
			pass_kept(s);
		execv(s->argv[0], s->argv);
		_exit(127);
	}
	if (pid < 0) {
		pr_err("start ambit-proxy: %s", strerror(errno));
		return;
	}
	s->pid = pid;
	s->ours = 1;
	s->started_at = s->next_start;
	write_pidfile(s);
	pr_info("started ambit-proxy (pid %d)", (int)pid);
}

/* Is the proxy gone? Reaps our child; probes an adopted one. */
static int gone(struct supervisor *s)
{
	int status;

	if (!s->pid)
		return 1;
	if (s->ours)
		return waitpid(s->pid, &status, WNOHANG) == s->pid;
	return kill(s->pid, 0) < 0 && errno == ESRCH;
}

/* Replaced proxies of ours are reaped once they have drained. */
static void reap_retired(struct supervisor *s)
{
	int i, status;

	for (i = 0; i < SUP_MAX_RETIRING; i++) {
		if (s->retiring[i] &&
		    waitpid(s->retiring[i], &status, WNOHANG) == s->retiring[i])
			s->retiring[i] = 0;
	}
}

void sup_tick(struct supervisor *s, uint64_t now)
{
	reap_retired(s);
	if (!s->argv[0])
		return;
	if (!gone(s)) {
		refresh_kept(s, now);
		return;
	}
	if (s->pid) {
		pr_warn("ambit-proxy (pid %d) exited; restarting", (int)s->pid);
		/* A proxy that ran a while earns a quick restart again. */
		if (now - s->started_at > 10000)
			s->backoff_ms = BACKOFF_MIN_MS;
		/* Crashing again and again: refuse clients rather than keep
		 * them waiting in a queue nobody may ever serve. */
		if (s->backoff_ms > 4 * BACKOFF_MIN_MS && s->n_kept) {
			pr_warn("ambit-proxy keeps failing: its port now refuses");
			drop_kept(s);
		}
		s->pid = 0;
		s->restarts++;
		s->next_start = now + s->backoff_ms;
		if (s->backoff_ms < BACKOFF_MAX_MS)
			s->backoff_ms *= 2;
	}
	if (now < s->next_start)
		return;
	s->next_start = now;
	start(s, true);
}

static void retire(struct supervisor *s, pid_t pid, int ours)
{
	int i;

	for (i = 0; ours && i < SUP_MAX_RETIRING; i++) {
		if (!s->retiring[i]) {
			s->retiring[i] = pid;
			return;
		}
	}
	/* Adopted (not our child) or no slot: it exits on its own; init
	 * reaps it. */
}

static int wait_ready(struct supervisor *s)
{
	int i;

	for (i = 0; i < READY_WAIT_MS / 50; i++) {
		if (!access(s->ready_file, F_OK))
			return 0;
		if (gone(s))
			return -ECHILD;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

int sup_reload(struct supervisor *s, char *msg, size_t size)
{
	pid_t old = s->pid;
	int err;

	if (!s->argv[0])
		return -ENOTSUP;
	if (old && !gone(s))
		retire(s, old, s->ours);
	else
		old = 0;
	start(s, false); /* it takes the sockets from the running one */
	if (!s->pid)
		return -EAGAIN;
	err = wait_ready(s);
	if (err == -ECHILD)
		s->pid = 0; /* sup_tick starts another; the old one serves meanwhile */
	if (err)
		snprintf(msg, size, "the new ambit-proxy (pid %d) did not start "
			 "serving: %s; %s", (int)s->pid, strerror(-err),
			 old ? "the old one keeps serving" : "see the log");
	else if (old)
		snprintf(msg, size, "ambit-proxy pid %d took over from pid %d, "
			 "which drains and exits", (int)s->pid, (int)old);
	else
		snprintf(msg, size, "ambit-proxy pid %d started", (int)s->pid);
	return err;
}

void sup_stop(struct supervisor *s)
{
	int i;

	drop_kept(s);
	if (!s->pid)
		return;
	kill(s->pid, SIGTERM);
	for (i = 0; i < 120 && !gone(s); i++)
		usleep(100000); /* the proxy drains in-flight requests */
	if (!gone(s))
		kill(s->pid, SIGKILL);
	s->pid = 0;
	unlink(s->pidfile);
}

void sup_free(struct supervisor *s)
{
	int i;

	drop_kept(s);
	for (i = 0; i < SUP_MAX_ARGS && s->argv[i]; i++)
		free(s->argv[i]);
	memset(s->argv, 0, sizeof(s->argv));
}
