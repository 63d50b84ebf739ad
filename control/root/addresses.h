/* oak-root's address plan (Oakestra's): Service IPs and Instance IPs from
 * 10.30.0.0/16, node-subnet /26 blocks from 10.18.0.0/16. Every address
 * handed out is a claim in the store (namespace "ip" or "subnet"), so it is
 * unique across the whole federation and survives a restart. */
#ifndef OAK_ROOT_ADDRESSES_H
#define OAK_ROOT_ADDRESSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct root_store;

/* A dotted IPv4 inside 10.30.0.0/16 (the field name goes into err). */
bool root_addr_is_service_range(const char *ip);
/* Claims ip for owner: 0, ROOT_STORE_TAKEN, or -1. */
int root_addr_claim_ip(struct root_store *s, const char *ip, const char *owner);
/* The first free address of 10.30.0.0/16 (host byte neither 0 nor 255),
 * claimed for owner, into out (16 bytes). -1 when the plan is full. */
int root_addr_alloc_ip(struct root_store *s, const char *owner, char out[16]);
/* A free /26 of 10.18.0.0/16 claimed for owner ("<cluster>/<node>"), or
 * the one it already holds; prefer keeps a node's previous block when it is
 * free or already its own. out: "10.18.x.y/26". */
int root_addr_alloc_subnet(struct root_store *s, const char *owner, const char *prefer,
			   char out[20]);

#endif
