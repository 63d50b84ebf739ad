// SPDX-License-Identifier: MIT
/* oakctl's settings: precedence of flags, environment, file; the file itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static const struct cfg_source none;

static const struct cfg_source file_src = {
    .root_url = "http://root.example:10000",
    .username = "alice",
    .token = "file-token",
    .refresh_token = "file-refresh",
};

static void test_defaults(void **state)
{
	struct settings s;
	char err[256] = "";

	(void)state;
	assert_int_equal(settings_resolve(&none, &none, &none, &s, err, sizeof(err)), 0);
	assert_string_equal(s.root_url, OAKCTL_DEFAULT_ROOT);
	assert_string_equal(s.root_origin, "default");
	assert_string_equal(s.username, "");
	assert_string_equal(s.token, "");
}

static void test_file_only(void **state)
{
	struct settings s;
	char err[256] = "";

	(void)state;
	assert_int_equal(settings_resolve(&none, &none, &file_src, &s, err, sizeof(err)), 0);
	assert_string_equal(s.root_url, "http://root.example:10000");
	assert_string_equal(s.username, "alice");
	assert_string_equal(s.token, "file-token");
	assert_string_equal(s.refresh_token, "file-refresh");
	assert_string_equal(s.password, "");
}

static void test_env_over_file_flags_over_env(void **state)
{
	struct cfg_source env = {.root_url = "http://env:1", .username = "bob", .password = "pw"};
	struct cfg_source flags = {.root_url = "http://flag:2/", .username = "carol"};
	struct settings s;
	char err[256] = "";

	(void)state;
	assert_int_equal(settings_resolve(&none, &env, &file_src, &s, err, sizeof(err)), 0);
	assert_string_equal(s.root_url, "http://env:1");
	assert_string_equal(s.root_origin, "OAK_ROOT_URL");
	assert_string_equal(s.username, "bob");
	assert_string_equal(s.password, "pw");
	/* another root and user than the file's: its tokens are not theirs */
	assert_string_equal(s.token, "");
	assert_string_equal(s.refresh_token, "");

	assert_int_equal(settings_resolve(&flags, &env, &file_src, &s, err, sizeof(err)), 0);
	assert_string_equal(s.root_url, "http://flag:2");
	assert_string_equal(s.root_origin, "--root");
	assert_string_equal(s.username, "carol");
	assert_string_equal(s.password, "pw");
}

static void test_tokens_kept_when_same_root_and_user(void **state)
{
	struct cfg_source env = {.root_url = "http://root.example:10000/", .username = "alice"};
	struct cfg_source other_user = {.username = "mallory"};
	struct cfg_source empty_env = {.root_url = "", .username = ""};
	struct settings s;
	char err[256] = "";

	(void)state;
	/* the same root (a trailing slash does not make it another) and user */
	assert_int_equal(settings_resolve(&none, &env, &file_src, &s, err, sizeof(err)), 0);
	assert_string_equal(s.token, "file-token");
	/* only the user differs */
	assert_int_equal(settings_resolve(&other_user, &none, &file_src, &s, err, sizeof(err)), 0);
	assert_string_equal(s.root_url, "http://root.example:10000");
	assert_string_equal(s.token, "");
	/* empty environment variables do not override */
	assert_int_equal(settings_resolve(&none, &empty_env, &file_src, &s, err, sizeof(err)), 0);
	assert_string_equal(s.root_url, "http://root.example:10000");
	assert_string_equal(s.username, "alice");
	assert_string_equal(s.token, "file-token");
}

static void test_bad_root(void **state)
{
	struct cfg_source flags = {.root_url = "root.example:10000"};
	char long_url[700];
	struct settings s;
	char err[256] = "";

	(void)state;
	assert_int_equal(settings_resolve(&flags, &none, &none, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "root.example:10000"));
	assert_non_null(strstr(err, "--root"));
	memset(long_url, 'a', sizeof(long_url) - 1);
	long_url[sizeof(long_url) - 1] = '\0';
	memcpy(long_url, "http://", 7);
	flags.root_url = long_url;
	assert_int_equal(settings_resolve(&flags, &none, &none, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
}

static void test_path(void **state)
{
	char path[512], err[256];

	(void)state;
	assert_int_equal(settings_path("/x/y.json", path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, "/x/y.json");
	unsetenv("OAKCTL_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/u", 1);
	assert_int_equal(settings_path(NULL, path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, "/home/u/.config/oak/oakctl.json");
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	assert_int_equal(settings_path(NULL, path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, "/xdg/oak/oakctl.json");
	setenv("OAKCTL_CONFIG", "/env/c.json", 1);
	assert_int_equal(settings_path(NULL, path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(path, "/env/c.json");
	unsetenv("OAKCTL_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	assert_int_equal(settings_path(NULL, path, sizeof(path), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "HOME"));
}

static void test_save_load_round_trip(void **state)
{
	char dir[] = "/tmp/oakctl-test-XXXXXX", path[256], err[256] = "";
	struct cfg_source src;
	struct settings s = {0}, back;
	struct stat st;
	json_t *doc;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/dir/oakctl.json", dir);
	/* a file that is not there is an empty config */
	assert_int_equal(settings_load(path, &doc, err, sizeof(err)), 0);
	assert_int_equal(json_object_size(doc), 0);
	json_decref(doc);

	snprintf(s.root_url, sizeof(s.root_url), "http://127.0.0.1:10000");
	snprintf(s.username, sizeof(s.username), "Admin");
	snprintf(s.password, sizeof(s.password), "secret");
	snprintf(s.token, sizeof(s.token), "a.b.c");
	snprintf(s.refresh_token, sizeof(s.refresh_token), "d.e.f");
	assert_int_equal(settings_save(path, &s, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/sub/dir", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/sub/dir/oakctl.json", dir);

	assert_int_equal(settings_load(path, &doc, err, sizeof(err)), 0);
	/* the password is never written */
	assert_null(json_object_get(doc, "password"));
	settings_source_from(doc, &src);
	assert_int_equal(settings_resolve(&none, &none, &src, &back, err, sizeof(err)), 0);
	assert_string_equal(back.root_url, "http://127.0.0.1:10000");
	assert_string_equal(back.username, "Admin");
	assert_string_equal(back.token, "a.b.c");
	assert_string_equal(back.refresh_token, "d.e.f");
	assert_string_equal(back.password, "");
	json_decref(doc);

	/* a file others may read is reported, with the fix */
	assert_int_equal(settings_file_exposed(path, err, sizeof(err)), 0);
	chmod(path, 0644);
	assert_int_equal(settings_file_exposed(path, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "0644"));
	assert_non_null(strstr(err, "chmod 600"));
	/* saving makes it private again */
	assert_int_equal(settings_save(path, &s, err, sizeof(err)), 0);
	assert_int_equal(settings_file_exposed(path, err, sizeof(err)), 0);

	/* a broken file is an error naming the file and the line */
	f = fopen(path, "w");
	fputs("{\n  \"root_url\": \"http://x\",\n  oops\n}\n", f);
	fclose(f);
	assert_int_equal(settings_load(path, &doc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line 3"));
	f = fopen(path, "w");
	fputs("[1, 2]\n", f);
	fclose(f);
	assert_int_equal(settings_load(path, &doc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a JSON object"));

	unlink(path);
	snprintf(path, sizeof(path), "%s/sub/dir", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_file_only),
	    cmocka_unit_test(test_env_over_file_flags_over_env),
	    cmocka_unit_test(test_tokens_kept_when_same_root_and_user),
	    cmocka_unit_test(test_bad_root),
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_save_load_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
