// SPDX-License-Identifier: Apache-2.0
/*
 * ambit-probe: a test client that reports what a socket saw, so end-to-end
 * tests can assert on it.
 *
 *   ambit-probe tcp ADDR:PORT [-n COUNT] [-m MARK]
 *       connect COUNT times (default 1); per connection print one line
 *       "ok <first line from server> peer=<getpeername>" or "err <ERRNO>".
 *       -m sets SO_MARK on the socket first (as ambit-proxy does).
 *   ambit-probe halfclose ADDR:PORT PATH
 *       send "GET PATH" with Connection: close, shut the socket down for
 *       writing, read the answer to the end; print its status line.
 *   ambit-probe udp ADDR:PORT MESSAGE [--connect]
 *       send one datagram (sendto, or connect+send), wait 2 s for a reply,
 *       print "ok <reply> from=<source address> peer=<getpeername|->".
 *   ambit-probe hold ADDR:PORT [-t SECONDS]
 *   ambit-probe hold-udp ADDR:PORT [-t SECONDS]
 *       keep one connection (TCP, or connected UDP that first sends
 *       "hello") open: print "ok <first line or reply> peer=<getpeername>",
 *       then on each SIGUSR1 send "ping" and print "echo <answer>"; when
 *       the connection ends print "closed EOF" or "closed <ERRNO>" and
 *       exit 0. After SECONDS (default 30) still open: "timeout", exit 1.
 *   ambit-probe many ADDR:PORT COUNT SECONDS
 *       open COUNT TCP connections and keep them for SECONDS (or until
 *       SIGTERM); print "held COUNT" once all are up (benchmarks: sockets
 *       for a socket iterator to walk).
 * ADDR is IPv4 or [IPv6]. Exit 0 when every attempt succeeded, else 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *in4 = (void *)ss;
	struct sockaddr_in6 *in6 = (void *)ss;
	size_t n;

	if (!colon || (n = (size_t)(colon - s)) >= sizeof(host) || n < 1)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(colon + 1));
		*len = sizeof(*in6);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -1;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)atoi(colon + 1));
	*len = sizeof(*in4);
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -1;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)ss;

		inet_ntop(AF_INET, &in4->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(in4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, size, "-");
	}
	return buf;
}

static void peer_str(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		snprintf(buf, size, "-");
	else
		addr_str(&ss, buf, size);
}

/* Read up to the first newline (or EOF / 2 s). */
static int read_line(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < size && poll(&p, 1, 2000) > 0) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n ? 0 : -1;
}

static unsigned int mark;

static int tcp_once(const struct sockaddr_storage *ss, socklen_t len)
{
	char line[256], peer[80];
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && mark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		printf("err %s\n", strerrorname_np(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	peer_str(fd, peer, sizeof(peer));
	if (read_line(fd, line, sizeof(line)))
		snprintf(line, sizeof(line), "(no data)");
	printf("ok %s peer=%s\n", line, peer);
	close(fd);
	return 0;
}

static int udp_once(const struct sockaddr_storage *ss, socklen_t len,
		    const char *msg, int do_connect)
{
	struct sockaddr_storage from = {};
	socklen_t flen = sizeof(from);
	struct pollfd p;
	char buf[512], f[80], peer[80] = "-";
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return -1;
	if (do_connect ? connect(fd, (const struct sockaddr *)ss, len) < 0 ||
				 send(fd, msg, strlen(msg), 0) < 0
		       : sendto(fd, msg, strlen(msg), 0,
				(const struct sockaddr *)ss, len) < 0) {
		printf("err %s\n", strerrorname_np(errno));
		close(fd);
		return -1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 2000) <= 0 ||
	    (n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from,
			  &flen)) < 0) {
		printf("err %s\n", errno ? strerrorname_np(errno) : "ETIMEDOUT");
		close(fd);
		return -1;
	}
	buf[n] = '\0';
	if (do_connect)
		peer_str(fd, peer, sizeof(peer));
	printf("ok %s from=%s peer=%s\n", buf, addr_str(&from, f, sizeof(f)), peer);
	close(fd);
	return 0;
}

static int halfclose(const struct sockaddr_storage *ss, socklen_t len,
		     const char *path)
{
	char req[512], resp[4096];
	size_t got = 0;
	ssize_t n;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		printf("err %s\n", strerrorname_np(errno));
		return 1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: probe\r\n"
		 "Connection: close\r\n\r\n", path);
	if (send(fd, req, strlen(req), 0) < 0 || shutdown(fd, SHUT_WR) < 0) {
		printf("err %s\n", strerrorname_np(errno));
		close(fd);
		return 1;
	}
	while (got < sizeof(resp) - 1 &&
	       (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	close(fd);
	resp[strcspn(resp, "\r\n")] = '\0';
	printf("%s\n", got ? resp : "(no answer)");
	return got ? 0 : 1;
}

static volatile sig_atomic_t ping_requested;

static void on_usr1(int sig)
{
	ping_requested = 1;
}

/* One answer: a line (TCP) or a datagram (UDP). Length, 0 at EOF, -errno. */
static ssize_t recv_answer(int fd, int type, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t r;

	if (type == SOCK_DGRAM) {
		if (poll(&p, 1, 2000) <= 0)
			return -ETIMEDOUT;
		r = recv(fd, buf, size - 1, 0);
		if (r < 0)
			return -errno;
		buf[r] = '\0';
		return r ? r : 1;
	}
	while (n + 1 < size && poll(&p, 1, 2000) > 0) {
		r = read(fd, buf + n, 1);
		if (r < 0)
			return -errno;
		if (r == 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n ? (ssize_t)n : 0;
}

static int hold_loop(int fd, int type, time_t end)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	const char *ping = type == SOCK_DGRAM ? "ping" : "ping\n";
	char buf[512];
	ssize_t r;

	while (time(NULL) < end) {
		if (ping_requested) {
			ping_requested = 0;
			if (send(fd, ping, strlen(ping), MSG_NOSIGNAL) < 0) {
				printf("closed %s\n", strerrorname_np(errno));
				return 0;
			}
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = recv_answer(fd, type, buf, sizeof(buf));
		if (r <= 0) {
			printf("closed %s\n", r ? strerrorname_np((int)-r) : "EOF");
			return 0;
		}
		printf("echo %s\n", buf);
	}
	printf("timeout\n");
	return 1;
}

static int hold(const struct sockaddr_storage *ss, socklen_t len, int type,
		long secs)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART */
	char first[512], peer[80];
	int fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0), ret;

	sigaction(SIGUSR1, &sa, NULL);
	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0 ||
	    (type == SOCK_DGRAM && send(fd, "hello", 5, 0) < 0)) {
		printf("err %s\n", strerrorname_np(errno));
		return 1;
	}
	peer_str(fd, peer, sizeof(peer));
	if (recv_answer(fd, type, first, sizeof(first)) <= 0)
		snprintf(first, sizeof(first), "(no data)");
	printf("ok %s peer=%s\n", first, peer);
	ret = hold_loop(fd, type, time(NULL) + secs);
	close(fd);
	return ret;
}

static int many(const struct sockaddr_storage *ss, socklen_t len, long count,
		long secs)
{
	struct rlimit rl = {};
	long i;
	int fd;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)count + 64) {
		rl.rlim_cur = (rlim_t)count + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < count; i++) {
		fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
			printf("err %s after %ld\n", strerrorname_np(errno), i);
			return 1;
		}
	}
	printf("held %ld\n", count);
	sleep((unsigned int)secs);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ambit-probe tcp ADDR:PORT [-n COUNT] [-m MARK]\n"
			"       ambit-probe halfclose ADDR:PORT PATH\n"
			"       ambit-probe udp ADDR:PORT MESSAGE [--connect]\n"
			"       ambit-probe hold|hold-udp ADDR:PORT [-t SECONDS]\n"
			"       ambit-probe many ADDR:PORT COUNT SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long count = 1, i, fails = 0;

	if (argc < 3 || parse_addr(argv[2], &ss, &len))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "udp")) {
		if (argc < 4)
			usage();
		return udp_once(&ss, len, argv[3],
				argc > 4 && !strcmp(argv[4], "--connect")) ? 1 : 0;
	}
	if (!strcmp(argv[1], "hold") || !strcmp(argv[1], "hold-udp")) {
		long secs = argc == 5 && !strcmp(argv[3], "-t") ? atol(argv[4]) : 30;

		if (argc != 3 && argc != 5)
			usage();
		return hold(&ss, len, strcmp(argv[1], "hold") ? SOCK_DGRAM
							       : SOCK_STREAM, secs);
	}
	if (!strcmp(argv[1], "many"))
		return argc == 5 ? many(&ss, len, atol(argv[3]), atol(argv[4]))
				 : (usage(), 2);
	if (!strcmp(argv[1], "halfclose"))
		return argc == 4 ? halfclose(&ss, len, argv[3]) : (usage(), 2);
	if (strcmp(argv[1], "tcp"))
		usage();
	for (int a = 3; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "-n"))
			count = atol(argv[a + 1]);
		else if (!strcmp(argv[a], "-m"))
			mark = (unsigned int)strtoul(argv[a + 1], NULL, 0);
		else
			usage();
	}
	for (i = 0; i < count; i++)
		fails += tcp_once(&ss, len) ? 1 : 0;
	return fails ? 1 : 0;
}
