// SPDX-License-Identifier: MIT
/*
 * oakctl completion bash|zsh: the completion scripts (completion.bash,
 * completion.zsh, embedded at build time) to stdout.
 */
#include <stdio.h>
#include <string.h>

#include "oakctl.h"

extern const char oakctl_completion_bash[];
extern const char oakctl_completion_zsh[];

int cmd_completion(struct oakctl *k, int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "bash"))
		fputs(oakctl_completion_bash, stdout);
	else if (argc == 1 && !strcmp(argv[0], "zsh"))
		fputs(oakctl_completion_zsh, stdout);
	else
		return fail(EXIT_USAGE, "usage: oakctl completion bash|zsh");
	return EXIT_OK;
}
