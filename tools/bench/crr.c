// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP connect/request/response/close rate (netperf's TCP_CRR, which this
 * machine lacks), for tools/bench/datapath.sh.
 *
 *   crr server PORT             accept; read 1 byte, write 1 byte, close
 *   crr client IP PORT SECONDS  connect, write 1, read 1, close, repeat;
 *                               prints "crr conns=N secs=S rate=R fails=F"
 *
 * The server closes first and the client waits for its FIN before closing,
 * so TIME_WAIT stays on the server side and the client's ephemeral ports are
 * free again at once: otherwise ~28k client ports in TIME_WAIT run out after
 * a few seconds and later runs measure port exhaustion, not the path.
 * The client is one process, one connection at a time: the rate measures
 * the per-connection path (handshake, first-packet translation), not
 * concurrency.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int serve(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, l, c;
	char b;

	signal(SIGPIPE, SIG_IGN);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1024)) {
		perror("crr server");
		return 1;
	}
	for (;;) {
		c = accept(l, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			return 1;
		}
		if (read(c, &b, 1) == 1)
			(void)!write(c, &b, 1);
		close(c);
	}
}

static int client(const char *ip, int port, double secs)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	long conns = 0, fails = 0;
	double t0, t;
	char b = 'x';
	struct timeval tmo = {.tv_sec = 2};
	int s, one = 1;

	signal(SIGPIPE, SIG_IGN);
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "crr: bad address %s\n", ip);
		return 2;
	}
	t0 = now_s();
	do {
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) {
			perror("socket");
			return 1;
		}
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* a lost SYN or reply costs at most 2 s (and counts as a failure) */
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
		/* reply, then the server's FIN: the client never closes first */
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 && write(s, &b, 1) == 1 &&
		    read(s, &b, 1) == 1 && read(s, &b, 1) == 0)
			conns++;
		else
			fails++;
		close(s);
		t = now_s() - t0;
	} while (t < secs);
	printf("crr conns=%ld secs=%.3f rate=%.0f fails=%ld\n", conns, t, conns / t, fails);
	return conns ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return serve(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: crr server PORT | crr client IP PORT SECONDS\n");
	return 2;
}
