// SPDX-License-Identifier: MIT
/*
 * oakctl: the user's command-line tool for oak-root. main() only reads the
 * options and the settings, and hands over to one cmd_*.c per command.
 */
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oak/dp.h>

#include "oakctl.h"
#include "output.h"

static const char help[] =
    "usage: oakctl [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  login [--password-stdin]         log in; the tokens go to the config file\n"
    "  apply -f SLA.json [--wait] [--timeout S]\n"
    "                                   register the SLA's applications and deploy every\n"
    "                                   service with its \"replicas\" (oak's SLA field,\n"
    "                                   default 1); --wait follows the instances until all\n"
    "                                   are RUNNING, a line per change; when the SLA's\n"
    "                                   applications are registered already, their\n"
    "                                   services are updated (PUT) instead\n"
    "  get apps                         applications\n"
    "  get services [APP]               services (of one application)\n"
    "  get instances [SERVICE]          instances, named SERVICE/N\n"
    "  get clusters                     clusters with their aggregated resources\n"
    "  get nodes                        active nodes per cluster: the root sees only\n"
    "                                   clusters' aggregates, never their nodes\n"
    "  scale SERVICE N [--wait]         set a service's instance count\n"
    "  delete app APP | service SERVICE | instance SERVICE N | -f SLA.json\n"
    "  logs SERVICE[/N] [-f]            an instance's logs; -f follows them\n"
    "  completion bash|zsh              a shell completion script, to source:\n"
    "                                   source <(oakctl completion bash)\n"
    "  dp [--node NODE]                 this machine's node datapath from its pinned maps\n"
    "                                   under " OAK_BPF_ROOT "/NODE: services, backends,\n"
    "                                   instances, counters (read-only; needs root)\n"
    "\n"
    "APP is an applicationID or application_name; SERVICE a microserviceID,\n"
    "APP/SERVICE or a service name unique among yours.\n"
    "\n"
    "options:\n"
    "  --root URL          the root's REST API (default " OAKCTL_DEFAULT_ROOT ")\n"
    "  --user USER         user name\n"
    "  --config FILE       config file (default ~/.config/oak/oakctl.json)\n"
    "  -o, --output FMT    get: table (default), wide (more columns), json (the root's\n"
    "                      answer) or yaml (the same as YAML); 'get instances -o json'\n"
    "                      adds \"service\" and \"microserviceID\" to each instance entry\n"
    "  --json              -o json (get); dp: its maps as JSON\n"
    "  --wait              apply, scale: wait until every instance is RUNNING\n"
    "  --timeout S         give up waiting after S seconds (default: no limit)\n"
    "  --grace S           a failed or unplaceable instance fails the wait only when it\n"
    "                      stays so for S seconds (default 0: at once; oak-root retries\n"
    "                      placement and replaces failed instances by itself)\n"
    "  --interval S        poll every S seconds (--wait 0.5, logs -f 1)\n"
    "  -f FILE, --file     the SLA (apply, delete; '-' for stdin)\n"
    "  -f, --follow        logs: keep printing new lines until interrupted\n"
    "  --node NODE         dp: the node id (default: the only one pinned)\n"
    "  --password-stdin    login: read the password from stdin\n"
    "  -v, --verbose       show the HTTP exchanges\n"
    "  -h, --help          this text\n"
    "\n"
    "output: data goes to stdout, errors and notes to stderr. Tables colour their\n"
    "  STATUS and ACTIVE cells only on a terminal, and never when NO_COLOR is set\n"
    "  (to anything but empty) or TERM is dumb.\n"
    "\n"
    "settings: flags override the environment, which overrides the config file\n"
    "  OAK_ROOT_URL, OAK_USER, OAK_PASSWORD (with a password at hand, oakctl logs in\n"
    "  by itself when it has no token or the refresh token expired); OAKCTL_CONFIG\n"
    "  names the config file. The file ({root_url, username, token, refresh_token},\n"
    "  mode 0600) is written by login and when a token is renewed. Stored tokens are\n"
    "  only sent to the root and user they were issued for.\n"
    "\n"
    "exit codes:\n"
    "  0  done\n"
    "  1  the root said no (its message is printed), or what was named does not exist\n"
    "  2  usage error: bad command line or SLA file\n"
    "  3  cannot reach the root\n"
    "  4  a wait failed (an instance FAILED, DEAD or could not be placed) or timed out\n";

enum {
	O_ROOT = 1 << 0,
	O_USER = 1 << 1,
	O_CONFIG = 1 << 2,
	O_JSON = 1 << 3,
	O_WAIT = 1 << 4,
	O_TIMEOUT = 1 << 5,
	O_INTERVAL = 1 << 6,
	O_FILE = 1 << 7,
	O_FOLLOW = 1 << 8,
	O_NODE = 1 << 9,
	O_PWSTDIN = 1 << 10,
	O_VERBOSE = 1 << 11,
	O_HELP = 1 << 12,
	O_GRACE = 1 << 13,
	O_OUTPUT = 1 << 14,
};

#define O_GLOBAL (O_ROOT | O_USER | O_CONFIG | O_VERBOSE | O_HELP)

struct command {
	const char *name;
	int (*run)(struct oakctl *k, int argc, char **argv);
	unsigned int opts; /* besides O_GLOBAL */
	bool remote;	   /* talks to the root */
};

static const struct command commands[] = {
    {"login", cmd_login, O_PWSTDIN, true},
    {"apply", cmd_apply, O_FILE | O_WAIT | O_TIMEOUT | O_GRACE | O_INTERVAL, true},
    {"get", cmd_get, O_JSON | O_OUTPUT, true},
    {"scale", cmd_scale, O_WAIT | O_TIMEOUT | O_GRACE | O_INTERVAL, true},
    {"delete", cmd_delete, O_FILE, true},
    {"logs", cmd_logs, O_FOLLOW | O_INTERVAL, true},
    {"dp", cmd_dp, O_JSON | O_NODE, false},
    {"completion", cmd_completion, 0, false},
};

static const struct option long_opts[] = {
    {"root", required_argument, NULL, 'R'},	{"user", required_argument, NULL, 'U'},
    {"config", required_argument, NULL, 'C'},	{"json", no_argument, NULL, 'J'},
    {"wait", no_argument, NULL, 'W'},		{"timeout", required_argument, NULL, 'T'},
    {"interval", required_argument, NULL, 'I'}, {"file", required_argument, NULL, 'F'},
    {"follow", no_argument, NULL, 'L'},		{"node", required_argument, NULL, 'N'},
    {"password-stdin", no_argument, NULL, 'P'}, {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},		{"grace", required_argument, NULL, 'G'},
    {"output", required_argument, NULL, 'o'},	{NULL, 0, NULL, 0},
};

/* The command word: the first argument that is neither an option nor an option's value. */
static const struct command *find_command(int argc, char **argv)
{
	static const char *const with_value[] = {"--root",  "--user",	  "--config", "--timeout",
						 "--grace", "--interval", "--file",   "--node",
						 "-f",	    "--output",	  "-o"};
	size_t j;
	int i;

	for (i = 1; i < argc; i++) {
		bool skip = false;

		if (!strcmp(argv[i], "--"))
			return NULL;
		if (argv[i][0] != '-') {
			for (j = 0; j < sizeof(commands) / sizeof(commands[0]); j++)
				if (!strcmp(argv[i], commands[j].name))
					return &commands[j];
			return NULL;
		}
		for (j = 0; j < sizeof(with_value) / sizeof(with_value[0]); j++)
			skip |= !strcmp(argv[i], with_value[j]);
		i += skip;
	}
	return NULL;
}

static int seconds(const char *opt, const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	if (end == s || *end || *out < 0 || *out > 1e7)
		return fail(EXIT_USAGE, "%s '%s': must be a number of seconds", opt, s);
	return 0;
}

static const char *opt_name(int c)
{
	const struct option *o;

	for (o = long_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return c == 'f' ? "f" : c == 'o' ? "output" : "?";
}

/*
 * Options may come before or after the command word (getopt moves the
 * other arguments to the end, in order); -f is --follow for logs and
 * --file elsewhere.
 */
static int parse(int argc, char **argv, const struct command *cmd, struct oakctl *k,
		 struct cfg_source *flags, const char **config, unsigned int *given)
{
	const char *shortopts = cmd && cmd->run == cmd_logs ? ":fo:vh" : ":f:o:vh";
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, long_opts, NULL)) != -1) {
		unsigned int bit;

		switch (c) {
		case 'R':
			bit = O_ROOT, flags->root_url = optarg;
			break;
		case 'U':
			bit = O_USER, flags->username = optarg;
			break;
		case 'C':
			bit = O_CONFIG, *config = optarg;
			break;
		case 'J':
			bit = O_JSON, k->o.json = true, k->o.output = OUT_JSON;
			break;
		case 'o':
			bit = O_OUTPUT;
			if (out_format_parse(optarg, &k->o.output))
				return fail(EXIT_USAGE,
					    "-o '%s': the output is table, wide, json or yaml",
					    optarg);
			break;
		case 'W':
			bit = O_WAIT, k->o.wait = true;
			break;
		case 'T':
			bit = O_TIMEOUT;
			if (seconds("--timeout", optarg, &k->o.timeout_s))
				return EXIT_USAGE;
			break;
		case 'G':
			bit = O_GRACE;
			if (seconds("--grace", optarg, &k->o.grace_s))
				return EXIT_USAGE;
			break;
		case 'I':
			bit = O_INTERVAL;
			if (seconds("--interval", optarg, &k->o.interval_s))
				return EXIT_USAGE;
			break;
		case 'F':
			bit = O_FILE, k->o.file = optarg;
			break;
		case 'f':
			if (cmd && cmd->run == cmd_logs)
				bit = O_FOLLOW, k->o.follow = true;
			else
				bit = O_FILE, k->o.file = optarg;
			break;
		case 'L':
			bit = O_FOLLOW, k->o.follow = true;
			break;
		case 'N':
			bit = O_NODE, k->o.node = optarg;
			break;
		case 'P':
			bit = O_PWSTDIN, k->o.password_stdin = true;
			break;
		case 'v':
			bit = O_VERBOSE, k->c.verbose = true;
			break;
		case 'h':
			bit = O_HELP;
			break;
		case ':':
			return fail(EXIT_USAGE, "option %s needs a value (see oakctl --help)",
				    argv[optind - 1]);
		default:
			return fail(EXIT_USAGE, "unknown option '%s' (see oakctl --help)",
				    argv[optind - 1]);
		}
		if (cmd && !(bit & (O_GLOBAL | cmd->opts)))
			return fail(EXIT_USAGE, "option --%s does not apply to '%s'", opt_name(c),
				    cmd->name);
		*given |= bit;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct command *cmd = find_command(argc, argv);
	struct cfg_source flags = {0}, env = {0}, file = {0};
	static struct oakctl k;
	char err[1024];
	unsigned int given = 0;
	const char *config_flag = NULL;
	json_t *doc = NULL;
	int rc;

	rc = parse(argc, argv, cmd, &k, &flags, &config_flag, &given);
	if (rc)
		return rc;
	if (given & O_HELP) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	if (!cmd) {
		if (optind < argc)
			return fail(EXIT_USAGE, "unknown command '%s' (see oakctl --help)",
				    argv[optind]);
		fputs(help, stderr);
		return EXIT_USAGE;
	}
	k.o.color = out_color(getenv("NO_COLOR"), getenv("TERM"), isatty(STDOUT_FILENO));
	if (settings_path(config_flag, k.config_path, sizeof(k.config_path), err, sizeof(err)))
		return fail(EXIT_USAGE, "%s", err);
	if (cmd->remote) {
		if (settings_load(k.config_path, &doc, err, sizeof(err)))
			return fail(EXIT_USAGE, "%s", err);
		if (settings_file_exposed(k.config_path, err, sizeof(err)))
			fprintf(stderr, "oakctl: warning: %s\n", err);
		settings_source_from(doc, &file);
		env.root_url = getenv("OAK_ROOT_URL");
		env.username = getenv("OAK_USER");
		env.password = getenv("OAK_PASSWORD");
		rc = settings_resolve(&flags, &env, &file, &k.s, err, sizeof(err));
		json_decref(doc);
		if (rc)
			return fail(EXIT_USAGE, "%s", err);
		if (client_init(&k.c, &k.s, k.config_path))
			return fail(EXIT_UNREACHABLE, "cannot initialise libcurl");
		k.c.verbose = given & O_VERBOSE;
	}
	/* the command's own arguments: what getopt left, minus the command word */
	rc = cmd->run(&k, argc - optind - 1, argv + optind + 1);
	if (cmd->remote)
		client_cleanup(&k.c);
	return rc;
}
