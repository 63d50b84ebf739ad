/* oak-root's store (SQLite) and address plan: documents, transactions,
 * claims, durability across a reopen, Service/Instance IPs and node-subnet
 * blocks. Each test works on its own database in a fresh temp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "addresses.h"
#include "store.h"

struct fx {
	char dir[64];
	char path[96];
	struct root_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/oak-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/root.db", f->dir);
	f->s = root_store_open(f->path, err, sizeof(err));
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	root_store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	char err[256];

	root_store_close(f->s);
	f->s = root_store_open(f->path, err, sizeof(err));
	assert_non_null(f->s);
}

static json_t *doc(const char *name, const char *owner)
{
	return json_pack("{s:s, s:s, s:i}", "name", name, "userId", owner, "n", 1);
}

static void test_put_get_list_del(void **state)
{
	struct fx *f = *state;
	json_t *d, *out, *arr;

	d = doc("a", "u1");
	assert_int_equal(root_store_put(f->s, "applications", "id1", d), 0);
	json_decref(d);
	d = doc("b", "u2");
	assert_int_equal(root_store_put(f->s, "applications", "id2", d), 0);
	json_decref(d);
	d = doc("c", "u1");
	assert_int_equal(root_store_put(f->s, "applications", "id3", d), 0);
	json_decref(d);
	/* replacing keeps the creation order */
	d = doc("a2", "u1");
	assert_int_equal(root_store_put(f->s, "applications", "id1", d), 0);
	json_decref(d);

	assert_int_equal(root_store_get(f->s, "applications", "id1", &out), 0);
	assert_string_equal(json_string_value(json_object_get(out, "name")), "a2");
	json_decref(out);
	assert_int_equal(root_store_get(f->s, "applications", "nope", &out), ROOT_STORE_NOTFOUND);
	assert_null(out);
	assert_int_equal(root_store_get(f->s, "services", "id1", &out), ROOT_STORE_NOTFOUND);

	assert_int_equal(root_store_list(f->s, "applications", NULL, NULL, &arr), 0);
	assert_int_equal(json_array_size(arr), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "name")),
			    "a2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 2), "name")),
			    "c");
	json_decref(arr);
	assert_int_equal(root_store_list(f->s, "applications", "userId", "u1", &arr), 0);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	/* a non-string field never matches, a quote in a field name is refused */
	assert_int_equal(root_store_list(f->s, "applications", "n", "1", &arr), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	assert_int_equal(root_store_list(f->s, "applications", "x\") OR 1=1 --", "u", &arr), -1);

	assert_int_equal(root_store_del(f->s, "applications", "id2"), 0);
	assert_int_equal(root_store_del(f->s, "applications", "id2"), ROOT_STORE_NOTFOUND);
	reopen(f);
	assert_int_equal(root_store_list(f->s, "applications", NULL, NULL, &arr), 0);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	json_t *d = doc("x", "u"), *out, *arr;

	assert_int_equal(root_store_begin(f->s), 0);
	assert_int_equal(root_store_put(f->s, "services", "s1", d), 0);
	assert_int_equal(root_store_claim(f->s, "app_name", "u/x/ns", "s1"), 0);
	/* visible inside the transaction */
	assert_int_equal(root_store_get(f->s, "services", "s1", &out), 0);
	json_decref(out);
	root_store_rollback(f->s);
	assert_int_equal(root_store_get(f->s, "services", "s1", &out), ROOT_STORE_NOTFOUND);
	assert_int_equal(root_store_claim_owner(f->s, "app_name", "u/x/ns", NULL, 0),
			 ROOT_STORE_NOTFOUND);

	/* nested: only the outermost commit writes */
	assert_int_equal(root_store_begin(f->s), 0);
	assert_int_equal(root_store_begin(f->s), 0);
	assert_int_equal(root_store_put(f->s, "services", "s2", d), 0);
	assert_int_equal(root_store_commit(f->s), 0);
	assert_int_equal(root_store_put(f->s, "services", "s3", d), 0);
	assert_int_equal(root_store_commit(f->s), 0);
	json_decref(d);
	reopen(f);
	assert_int_equal(root_store_list(f->s, "services", NULL, NULL, &arr), 0);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
}

static void test_claims(void **state)
{
	struct fx *f = *state;
	char owner[ROOT_ID_LEN];

	assert_int_equal(root_store_claim(f->s, "ip", "10.30.30.30", "svc1"), 0);
	assert_int_equal(root_store_claim(f->s, "ip", "10.30.30.30", "svc1"), 0);
	assert_int_equal(root_store_claim(f->s, "ip", "10.30.30.30", "svc2"), ROOT_STORE_TAKEN);
	/* namespaces are apart */
	assert_int_equal(root_store_claim(f->s, "app_name", "10.30.30.30", "svc2"), 0);
	assert_int_equal(root_store_claim_owner(f->s, "ip", "10.30.30.30", owner, sizeof(owner)),
			 0);
	assert_string_equal(owner, "svc1");
	assert_int_equal(root_store_claim(f->s, "ip", "10.30.0.9", "svc1"), 0);
	assert_int_equal(root_store_release(f->s, "ip", "10.30.0.9"), 0);
	assert_int_equal(root_store_release(f->s, "ip", "10.30.0.9"), ROOT_STORE_NOTFOUND);
	assert_int_equal(root_store_claim(f->s, "ip", "10.30.0.10", "svc1"), 0);
	assert_int_equal(root_store_release_owner(f->s, "svc1"), 0);
	assert_int_equal(root_store_claim_owner(f->s, "ip", "10.30.30.30", NULL, 0),
			 ROOT_STORE_NOTFOUND);
	assert_int_equal(root_store_claim_owner(f->s, "ip", "10.30.0.10", NULL, 0),
			 ROOT_STORE_NOTFOUND);
	assert_int_equal(root_store_claim_owner(f->s, "app_name", "10.30.30.30", NULL, 0), 0);
	reopen(f);
	assert_int_equal(root_store_claim(f->s, "app_name", "10.30.30.30", "svc1"),
			 ROOT_STORE_TAKEN);
}

static void test_ids(void **state)
{
	struct fx *f = *state;
	char a[ROOT_ID_LEN], b[ROOT_ID_LEN];

	root_store_new_id(f->s, a);
	for (int i = 0; i < 1000; i++) {
		root_store_new_id(f->s, b);
		assert_int_equal(strlen(b), 24);
		assert_int_equal(strspn(b, "0123456789abcdef"), 24);
		assert_true(strcmp(a, b) != 0);
		/* same second, same process: the counter orders them (wraps at 2^24) */
		if (strncmp(a, b, 18) == 0 && strcmp(a + 18, "ffffff"))
			assert_true(strcmp(a, b) < 0);
		memcpy(a, b, sizeof(a));
	}
}

static void test_service_ips(void **state)
{
	struct fx *f = *state;
	char ip[16];

	assert_true(root_addr_is_service_range("10.30.0.1"));
	assert_true(root_addr_is_service_range("10.30.255.254"));
	assert_false(root_addr_is_service_range("10.31.0.1"));
	assert_false(root_addr_is_service_range("10.30.0"));
	assert_false(root_addr_is_service_range("10.30.0.1 "));
	assert_false(root_addr_is_service_range(""));
	assert_false(root_addr_is_service_range(NULL));

	assert_int_equal(root_addr_alloc_ip(f->s, "a", ip), 0);
	assert_string_equal(ip, "10.30.0.1");
	/* an SLA's own rr_ip is honoured, and skipped by the allocator */
	assert_int_equal(root_addr_claim_ip(f->s, "10.30.0.2", "b"), 0);
	assert_int_equal(root_addr_claim_ip(f->s, "10.30.0.2", "c"), ROOT_STORE_TAKEN);
	assert_int_equal(root_addr_claim_ip(f->s, "10.31.0.2", "c"), -1);
	assert_int_equal(root_addr_alloc_ip(f->s, "c", ip), 0);
	assert_string_equal(ip, "10.30.0.3");
	/* .255 and .0 are skipped */
	for (int i = 4; i <= 254; i++)
		assert_int_equal(root_addr_alloc_ip(f->s, "d", ip), 0);
	assert_string_equal(ip, "10.30.0.254");
	assert_int_equal(root_addr_alloc_ip(f->s, "d", ip), 0);
	assert_string_equal(ip, "10.30.1.1");
	/* next fit: the search goes on after the last one handed out (so the
	 * k-th allocation does not walk the k-1 before it); a released address
	 * comes back once the search wraps, and a taken one is never handed out */
	assert_int_equal(root_store_release_owner(f->s, "c"), 0);
	reopen(f);
	assert_int_equal(root_addr_alloc_ip(f->s, "e", ip), 0);
	assert_string_equal(ip, "10.30.1.2");
}

static void test_subnets(void **state)
{
	struct fx *f = *state;
	char a[20], b[20], c[20];

	assert_int_equal(root_addr_alloc_subnet(f->s, "c1/n1", NULL, a), 0);
	assert_string_equal(a, "10.18.0.0/26");
	assert_int_equal(root_addr_alloc_subnet(f->s, "c1/n2", NULL, b), 0);
	assert_string_equal(b, "10.18.0.64/26");
	/* asking again gives the block already held */
	assert_int_equal(root_addr_alloc_subnet(f->s, "c1/n1", NULL, c), 0);
	assert_string_equal(c, "10.18.0.0/26");
	/* prefer: kept when free or own, ignored when another's or malformed */
	assert_int_equal(root_addr_alloc_subnet(f->s, "c1/n3", "10.18.7.0/26", c), 0);
	assert_string_equal(c, "10.18.7.0/26");
	assert_int_equal(root_addr_alloc_subnet(f->s, "c1/n4", "10.18.7.0/26", c), 0);
	assert_string_equal(c, "10.18.0.128/26");
	assert_int_equal(root_addr_alloc_subnet(f->s, "c1/n5", "10.18.7.1/26", c), 0);
	assert_string_equal(c, "10.18.0.192/26");
	assert_int_equal(root_addr_alloc_subnet(f->s, "c1/n6", "10.19.0.0/26", c), 0);
	assert_string_equal(c, "10.18.1.0/26");
	reopen(f);
	assert_int_equal(root_addr_alloc_subnet(f->s, "c1/n3", NULL, c), 0);
	assert_string_equal(c, "10.18.7.0/26");
	/* the plan has 1024 blocks, 6 of them held */
	for (int i = 6; i < 1024; i++) {
		char o[32];

		snprintf(o, sizeof(o), "fill/%d", i);
		assert_int_equal(root_addr_alloc_subnet(f->s, o, NULL, c), 0);
	}
	assert_int_equal(root_addr_alloc_subnet(f->s, "late", NULL, c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_get_list_del, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_claims, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_service_ips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subnets, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
