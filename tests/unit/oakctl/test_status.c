// SPDX-License-Identifier: MIT
/* Instance statuses and the progress line of --wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "status.h"

static json_t *service(const char *instances)
{
	char text[2048];
	json_t *s;

	snprintf(text, sizeof(text),
		 "{\"app_name\": \"clientserver\", \"microservice_name\": \"server\","
		 " \"microserviceID\": \"64f000000000000000000001\", \"instance_list\": %s}",
		 instances);
	s = json_loads(text, 0, NULL);
	assert_non_null(s);
	return s;
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(inst_classify("RUNNING"), INST_READY);
	assert_int_equal(inst_classify("COMPLETED"), INST_READY);
	assert_int_equal(inst_classify("FAILED"), INST_FAILED);
	assert_int_equal(inst_classify("DEAD"), INST_FAILED);
	assert_int_equal(inst_classify("NoActiveClusterWithCapacity"), INST_FAILED);
	assert_int_equal(inst_classify("TargetClusterNotFound"), INST_FAILED);
	assert_int_equal(inst_classify("TargetClusterNotActive"), INST_FAILED);
	assert_int_equal(inst_classify("TargetClusterNoCapacity"), INST_FAILED);
	assert_int_equal(inst_classify("NO_WORKER_CAPACITY"), INST_FAILED);
	assert_int_equal(inst_classify("NO_QUALIFIED_WORKER_FOUND"), INST_FAILED);
	assert_int_equal(inst_classify("REQUESTED"), INST_PENDING);
	assert_int_equal(inst_classify("CLUSTER_SCHEDULED"), INST_PENDING);
	assert_int_equal(inst_classify("NODE_SCHEDULED"), INST_PENDING);
	assert_int_equal(inst_classify("CREATING"), INST_PENDING);
	assert_int_equal(inst_classify("CREATED"), INST_PENDING);
	assert_int_equal(inst_classify("UNDEPLOYED"), INST_GONE);
	assert_int_equal(inst_classify(NULL), INST_PENDING);
	assert_int_equal(inst_classify("SOMETHING_NEW"), INST_PENDING);
}

static void test_progress_line(void **state)
{
	json_t *s = service("[{\"instance_number\": 0, \"status\": \"RUNNING\"},"
			    " {\"instance_number\": 1, \"status\": \"CREATING\"}]");
	struct svc_summary sum;
	char line[256];

	(void)state;
	svc_summarise(s, 2, "clientserver/server", &sum, line, sizeof(line));
	assert_string_equal(line, "clientserver/server: 1/2 RUNNING (1 CREATING)");
	assert_int_equal(sum.running, 1);
	assert_int_equal(sum.total, 2);
	assert_int_equal(sum.failed, 0);
	assert_false(svc_done(&sum));
	json_decref(s);

	s = service("[{\"instance_number\": 0, \"status\": \"RUNNING\"},"
		    " {\"instance_number\": 1, \"status\": \"RUNNING\"}]");
	svc_summarise(s, 2, "clientserver/server", &sum, line, sizeof(line));
	assert_string_equal(line, "clientserver/server: 2/2 RUNNING");
	assert_true(svc_done(&sum));
	/* scaled down to 1 while two still run: not done yet */
	svc_summarise(s, 1, "clientserver/server", &sum, line, sizeof(line));
	assert_false(svc_done(&sum));
	json_decref(s);
}

static void test_not_yet_created_and_kinds(void **state)
{
	json_t *s = service("[{\"status\": \"REQUESTED\"}, {\"status\": \"CLUSTER_SCHEDULED\"},"
			    " {\"status\": \"REQUESTED\"}, {\"status\": \"UNDEPLOYED\"}]");
	struct svc_summary sum;
	char line[256];

	(void)state;
	svc_summarise(s, 5, "a/b", &sum, line, sizeof(line));
	assert_string_equal(
	    line, "a/b: 0/5 RUNNING (2 REQUESTED, 1 CLUSTER_SCHEDULED, 2 not yet created)");
	assert_int_equal(sum.total, 3);
	json_decref(s);

	s = service("[]");
	svc_summarise(s, 1, "a/b", &sum, line, sizeof(line));
	assert_string_equal(line, "a/b: 0/1 RUNNING (1 not yet created)");
	assert_false(svc_done(&sum));
	svc_summarise(s, 0, "a/b", &sum, line, sizeof(line));
	assert_string_equal(line, "a/b: 0/0 RUNNING");
	assert_true(svc_done(&sum));
	json_decref(s);
}

static void test_failure_names_instance(void **state)
{
	json_t *s = service("[{\"instance_number\": 0, \"status\": \"RUNNING\"},"
			    " {\"instance_number\": 3, \"status\": \"NoActiveClusterWithCapacity\","
			    "  \"status_detail\": \"no cluster has 4 vcpus\"},"
			    " {\"instance_number\": 4, \"status\": \"FAILED\"}]");
	struct svc_summary sum;
	char line[256];

	(void)state;
	svc_summarise(s, 3, "a/b", &sum, line, sizeof(line));
	assert_int_equal(sum.failed, 2);
	assert_int_equal(sum.failed_number, 3);
	assert_string_equal(sum.failed_status, "NoActiveClusterWithCapacity");
	assert_string_equal(sum.failed_detail, "no cluster has 4 vcpus");
	assert_false(svc_done(&sum));
	assert_string_equal(line, "a/b: 1/3 RUNNING (1 NoActiveClusterWithCapacity, 1 FAILED)");
	json_decref(s);
}

static void test_completed_one_shot_is_done(void **state)
{
	json_t *s = service("[{\"instance_number\": 0, \"status\": \"COMPLETED\"}]");
	struct svc_summary sum;
	char line[256];

	(void)state;
	svc_summarise(s, 1, "a/job", &sum, line, sizeof(line));
	assert_true(svc_done(&sum));
	assert_string_equal(line, "a/job: 0/1 RUNNING (1 COMPLETED)");
	json_decref(s);
}

static void test_display_name_and_truncation(void **state)
{
	json_t *s =
	    json_loads("{\"applicationID\": \"app1\", \"microserviceID\": \"s1\"}", 0, NULL);
	struct svc_summary sum;
	char name[64], tiny[12];

	(void)state;
	svc_display_name(s, name, sizeof(name));
	assert_string_equal(name, "app1/s1");
	json_decref(s);
	s = service("[{\"status\": \"REQUESTED\"}]");
	svc_display_name(s, name, sizeof(name));
	assert_string_equal(name, "clientserver/server");
	svc_summarise(s, 1, name, &sum, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_progress_line),
	    cmocka_unit_test(test_not_yet_created_and_kinds),
	    cmocka_unit_test(test_failure_names_instance),
	    cmocka_unit_test(test_completed_one_shot_is_done),
	    cmocka_unit_test(test_display_name_and_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
