// SPDX-License-Identifier: Apache-2.0
/*
 * connbench: connection setup rate and connect() latency to one address.
 *
 *   connbench ADDR:PORT [-n COUNT] [-w WARMUP]
 *
 * Each cycle is socket(), connect() (timed), close() with SO_LINGER 0 so
 * no TIME_WAIT piles up. Prints one line:
 *   conns=N errors=E secs=S rate=R p50_us=X p90_us=Y p99_us=Z cpu_us=C
 * cpu_us is the client's own CPU time (user+sys) per connection: the BPF
 * programs run in the connecting task, so this shows their cost with far
 * less noise than wall-clock rates on a shared 2-core machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int parse(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *c = strrchr(s, ':');

	if (!c || (size_t)(c - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)atoi(c + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* One cycle; returns connect() latency in us, or -1. */
static double cycle(const struct sockaddr_in *sa)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0, t1;
	int rc;

	if (fd < 0)
		return -1;
	t0 = now_us();
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	t1 = now_us();
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return rc ? -1 : t1 - t0;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	long n = 20000, warm = 2000, i, ok = 0, errs = 0;
	double *lat, t0, secs, c0;
	int opt;

	while ((opt = getopt(argc, argv, "n:w:")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else if (opt == 'w')
			warm = atol(optarg);
		else
			return 2;
	}
	if (optind >= argc || parse(argv[optind], &sa) || n <= 0) {
		fprintf(stderr, "usage: connbench ADDR:PORT [-n COUNT] [-w WARMUP]\n");
		return 2;
	}
	lat = calloc((size_t)n, sizeof(*lat));
	for (i = 0; i < warm; i++)
		cycle(&sa);
	t0 = now_us();
	c0 = cpu_us();
	for (i = 0; i < n; i++) {
		double l = cycle(&sa);

		if (l < 0)
			errs++;
		else
			lat[ok++] = l;
	}
	secs = (now_us() - t0) / 1e6;
	qsort(lat, (size_t)ok, sizeof(*lat), cmp);
	printf("conns=%ld errors=%ld secs=%.3f rate=%.0f p50_us=%.1f p90_us=%.1f "
	       "p99_us=%.1f cpu_us=%.2f\n", ok, errs, secs, ok / secs,
	       ok ? lat[ok / 2] : 0, ok ? lat[ok * 9 / 10] : 0,
	       ok ? lat[ok * 99 / 100] : 0, (cpu_us() - c0) / (double)n);
	free(lat);
	return errs ? 1 : 0;
}
