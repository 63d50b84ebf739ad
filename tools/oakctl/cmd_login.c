// SPDX-License-Identifier: MIT
/*
 * oakctl login [--password-stdin]: log in and keep the tokens in the config
 * file. The password comes from OAK_PASSWORD, from stdin with
 * --password-stdin, or from a prompt on the terminal (never from argv,
 * where other users could read it).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "oakctl.h"

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int read_line(FILE *in, char *buf, size_t len)
{
	if (!fgets(buf, (int)len, in))
		return -1;
	chomp(buf);
	return 0;
}

/* Prompt on the terminal; the password is not echoed. */
static int prompt(const char *what, bool secret, char *buf, size_t len)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	int rc;

	if (!tty)
		return -1;
	fprintf(tty, "%s: ", what);
	fflush(tty);
	if (secret && tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
		rc = read_line(tty, buf, len);
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
		fputc('\n', tty);
	} else {
		rc = read_line(tty, buf, len);
	}
	fclose(tty);
	return rc;
}

int cmd_login(struct oakctl *k, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc)
		return fail(EXIT_USAGE, "usage: oakctl login [--user USER] [--password-stdin]");
	if (!k->s.username[0] && prompt("user", false, k->s.username, sizeof(k->s.username)))
		return fail(EXIT_USAGE, "no user name: give --user USER or set OAK_USER");
	if (k->o.password_stdin) {
		if (read_line(stdin, k->s.password, sizeof(k->s.password)))
			return fail(EXIT_USAGE, "--password-stdin: no password on stdin");
	} else if (!k->s.password[0] &&
		   prompt("password", true, k->s.password, sizeof(k->s.password))) {
		return fail(EXIT_USAGE, "no password: set OAK_PASSWORD, use --password-stdin, or "
					"run on a terminal");
	}
	/* a new login replaces whatever tokens the file held */
	k->s.token[0] = k->s.refresh_token[0] = '\0';
	rc = client_login(&k->c);
	if (rc)
		return fail(rc, "login: %s", k->c.err);
	printf("logged in as %s at %s (tokens in %s)\n", k->s.username, k->s.root_url,
	       k->config_path);
	return EXIT_OK;
}
