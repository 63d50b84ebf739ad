/* SPDX-License-Identifier: MIT */
/* One service instance on this node, and its record in the state dir.
 * The record is what lets a restarted agent adopt what is running: it is
 * written before anything is created and after every state change. */
#ifndef OAK_AGENT_INSTANCE_H
#define OAK_AGENT_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <oak/msg.h>

#define OAK_NETNS_LEN  64
#define OAK_IFNAME_LEN 16

struct oak_instance {
	struct oak_msg_deploy d; /* what the cluster asked for */
	enum oak_instance_state state;
	char netns[OAK_NETNS_LEN]; /* /run/netns/<netns> */
	char veth[OAK_IFNAME_LEN]; /* host side; eth0 inside */
	char ns_ip[16];		   /* address in the node's block */
	char cgroup[128];	   /* relative cgroup path: oak/<node>/<key> */
	pid_t pid;		   /* 0: not running */
	uint64_t pid_start;	   /* /proc/<pid>/stat starttime: guards pid reuse */
	uint32_t restarts;	   /* consecutive failed runs */
	int32_t exit_code;
	char reason[256];

	/* runtime-only, not in the record */
	int pidfd;
	int64_t started_ms;	     /* monotonic */
	int64_t cpu_usec, cpu_at_ms; /* CPU time used at the last usage report, and when */
	int64_t restart_at_ms;	     /* monotonic; 0 = none pending */
	bool adopted;
	int64_t log_size;     /* of the log when its tail was last sent */
	int64_t log_sent_ms;
	struct oak_instance *next;
};

/* "<job>.<n>": the record's file name and the key in logs */
void oak_instance_key(const struct oak_instance *in, char *buf, size_t len);

/* Record as JSON (malloc'd), and back. Decode fills the deploy part through
 * the message codec, so a record always holds a valid deploy. */
char *oak_record_encode(const struct oak_instance *in);
int oak_record_decode(const char *buf, size_t len, struct oak_instance *in, char *err,
		      size_t errlen);

/* Delay before restart number `attempt` (0-based): base * 2^attempt, capped. */
unsigned oak_restart_backoff_ms(unsigned attempt, unsigned base_ms, unsigned max_ms);

/* Stable short names derived from the instance: "<prefix><8 hex>". */
uint32_t oak_instance_hash(const char *job_name, uint32_t instance_number);

#endif
