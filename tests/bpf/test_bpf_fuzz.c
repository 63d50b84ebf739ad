// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packet fuzzing of the datapath through BPF_PROG_TEST_RUN: random and
 * mutated packets (truncated headers, bad IHL and version, fragments, bad
 * tot_len, IP options, wrong tunnel headers, random bytes after a valid
 * prefix, random bytes) against every program (oak_from_inst,
 * oak_from_uplink, oak_xdp_decap), in the world test_bpf_datapath.c builds:
 * this file includes it for its namespace, loading, map and packet code
 * (its main() renamed away), so both tests load the programs the same way.
 *
 * What must hold for every packet:
 *  - accounting: a tc program counts exactly one final verdict (every stat
 *    but the annotations translated, rev_translated, new_flow, repick,
 *    decap_tc, decap_xdp, neigh); XDP counts decap_xdp (pass, decapped),
 *    drop, or nothing (pass, untouched). Summed over the run, the verdict
 *    deltas equal the packets run, per program.
 *  - a packet that is not well formed (below) is never translated,
 *    encapsulated nor DNATed, and the tunnel is only removed from a well
 *    formed outer header; what tc passes untranslated leaves byte for byte
 *    as it came; what XDP passes untouched too.
 *  - nothing leaves through the tunnel larger than the uplink MTU.
 *  - a well-formed packet built here that is translated leaves with IPv4
 *    and L4 checksums that verify from scratch.
 * Well formed: Ethernet + IPv4, version 4, IHL 5, no fragment bits, tot_len
 * covers the IP and L4 headers and fits in the frame, TCP/UDP/ICMP.
 *
 * OAK_BPF_FUZZ_N packets per program (default 20000), PRNG seed
 * OAK_BPF_FUZZ_SEED (default 1: runs repeat). Prints the verdict totals
 * and "N passed, M failed". Exit 0, 1, or 77 when not root.
 */
#define main oak_datapath_main
int oak_datapath_main(int argc, char **argv);
#include "test_bpf_datapath.c"
#undef main

static uint64_t rng_state;

static uint32_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (uint32_t)(x >> 16);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* the verdicts: every stat but these annotations of a packet's path */
static bool is_annotation(int i)
{
	return i == OAK_STAT_TRANSLATED || i == OAK_STAT_REV_TRANSLATED || i == OAK_STAT_NEW_FLOW ||
	       i == OAK_STAT_REPICK || i == OAK_STAT_DECAP_TC || i == OAK_STAT_DECAP_XDP ||
	       i == OAK_STAT_NEIGH;
}

/* strict well-formedness of the IPv4 packet at ip (avail bytes) */
static bool ip_well_formed(const uint8_t *ip, size_t avail)
{
	size_t tot, l4min;

	if (avail < IPH || ip[0] != 0x45)
		return false;
	tot = get16h(ip + 2);
	if (get16h(ip + 6) & 0x3fff)
		return false;
	switch (ip[9]) {
	case IPPROTO_TCP:
		l4min = 20;
		break;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
		l4min = 8;
		break;
	default:
		return false;
	}
	return tot >= IPH + l4min && tot <= avail;
}

static bool eth_ip_well_formed(const uint8_t *pkt, size_t len)
{
	return len >= ETH_HLEN && pkt[12] == 0x08 && pkt[13] == 0x00 &&
	       ip_well_formed(pkt + ETH_HLEN, len - ETH_HLEN);
}

/* a tunnel datagram as oak sends it: well-formed outer UDP to the tunnel
 * port, and the inner IPv4 packet */
static bool tunnel_well_formed(const uint8_t *pkt, size_t len)
{
	const uint8_t *ip = pkt + ETH_HLEN;

	return eth_ip_well_formed(pkt, len) && ip[9] == IPPROTO_UDP &&
	       get16h(ip + IPH + 2) == OAK_TUNNEL_PORT && get16h(ip + IPH + 4) >= 8 + IPH &&
	       get16h(ip + 2) == get16h(ip + IPH + 4) + IPH;
}

/* ---- packets ---- */

static const uint32_t *svc_ips(size_t *n)
{
	static uint32_t v[8];

	v[0] = SVC_RR;
	v[1] = SVC_CL;
	v[2] = SVC_REM;
	v[3] = SVC_RE;
	v[4] = SVC_EMPTY;
	v[5] = SVC_RREM;
	v[6] = SVC_UNKNOWN;
	v[7] = IP4(10, 30, 200, 9);
	*n = 8;
	return v;
}

static uint8_t pick_proto(void)
{
	static const uint8_t p[] = {
	    IPPROTO_TCP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_SCTP, 0};
	uint8_t v = p[below(sizeof(p))];

	return v ? v : (uint8_t)rnd();
}

static uint32_t pick_dst(void)
{
	size_t n;
	const uint32_t *s = svc_ips(&n);

	switch (below(6)) {
	case 0:
		return insts[below(NINST)].inst_ip;
	case 1:
		return rnd();
	default:
		return s[below((uint32_t)n)];
	}
}

static struct spec random_spec(int who, uint32_t dst)
{
	struct spec s = mk(pick_proto(), below(4) ? insts[who].ns_ip : insts[who].inst_ip, dst,
			   (uint16_t)(1024 + below(60000)), (uint16_t)(1 + below(1024)));

	s.smac = insts[who].mac;
	s.payload = (uint16_t)below(below(8) ? 200 : 1600);
	s.icmp_type = below(4) ? 8 : (uint8_t)rnd();
	s.udp_nocsum = below(8) == 0;
	s.tcp_flags = below(2) ? 0x02 : 0;
	return s;
}

enum mutation {
	M_NONE,
	M_TRUNCATE,
	M_IHL,
	M_VERSION,
	M_OPTIONS,
	M_FRAGMENT,
	M_TOTLEN,
	M_TAIL_RANDOM,
	M_FLIP,
	M_RANDOM,
	M_N,
};

static const char *const mut_names[M_N] = {
    "none",	"truncate", "ihl",  "version", "options",
    "fragment", "tot_len",  "tail", "flip",    "random",
};

/* recompute the IPv4 header checksum at ip (IHL from the header, bounded) */
static void ip_resum(uint8_t *ip, size_t avail)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	uint16_t c;

	if (ihl < IPH || ihl > avail)
		return;
	ip[10] = ip[11] = 0;
	c = htons(fold(sum16(0, ip, ihl)));
	memcpy(ip + 10, &c, 2);
}

/* mutate the IPv4 packet at off in pkt (len bytes); returns the new length */
static size_t mutate(uint8_t *pkt, size_t len, size_t off, enum mutation m, size_t cap)
{
	uint8_t *ip = pkt + off;
	size_t k;
	uint16_t v;

	if (len < off + IPH && m != M_TRUNCATE && m != M_RANDOM && m != M_TAIL_RANDOM)
		return len;
	switch (m) {
	case M_NONE:
	case M_OPTIONS: /* built with options already */
		break;
	case M_TRUNCATE:
		len = below((uint32_t)len);
		break;
	case M_IHL:
		ip[0] = (uint8_t)(0x40 | (below(3) ? below(5) : 6 + below(10)));
		if (below(2))
			ip_resum(ip, len - off);
		break;
	case M_VERSION:
		ip[0] = (uint8_t)((below(16) << 4) | 5);
		if ((ip[0] >> 4) == 4)
			ip[0] = 0x65;
		ip_resum(ip, len - off);
		break;
	case M_FRAGMENT:
		v = htons((uint16_t)(below(2) ? 0x2000 | below(0x2000) : 1 + below(0x1fff)));
		memcpy(ip + 6, &v, 2);
		ip_resum(ip, len - off);
		break;
	case M_TOTLEN:
		switch (below(4)) {
		case 0:
			v = (uint16_t)below(IPH + 20);
			break;
		case 1:
			v = (uint16_t)(len - off + 1 + below(64));
			break;
		case 2:
			v = (uint16_t)rnd();
			break;
		default:
			v = (uint16_t)(IPH + below(8));
		}
		v = htons(v);
		memcpy(ip + 2, &v, 2);
		ip_resum(ip, len - off);
		break;
	case M_TAIL_RANDOM:
		k = below((uint32_t)len + 1);
		for (size_t i = k; i < len; i++)
			pkt[i] = (uint8_t)rnd();
		break;
	case M_FLIP:
		for (int n = 1 + (int)below(4); n > 0 && len; n--)
			pkt[below((uint32_t)len)] ^= (uint8_t)(1u << below(8));
		break;
	case M_RANDOM:
		len = below((uint32_t)(cap < 200 ? cap : 200));
		for (size_t i = 0; i < len; i++)
			pkt[i] = (uint8_t)rnd();
		if (len >= ETH_HLEN && below(2)) {
			pkt[12] = 0x08;
			pkt[13] = 0;
		}
		break;
	default:
		break;
	}
	return len;
}

/* ---- checks ---- */

struct tally {
	uint64_t runs, verdicts[OAK_STAT_MAX], by_mut[M_N], malformed_in, translated;
};
static struct tally T_inst, T_up, T_xdp;
static int failures;
static char fail_input[OUTSZ];
static size_t fail_len;

static void dump_fail(const char *prog, enum mutation m, const uint8_t *pkt, size_t len,
		      const char *why)
{
	if (failures++ >= 10)
		return;
	printf("FAIL %s (mutation %s, %zu bytes): %s\n  packet:", prog, mut_names[m], len, why);
	for (size_t i = 0; i < len && i < 96; i++)
		printf(" %02x", pkt[i]);
	printf("%s\n", len > 96 ? " ..." : "");
	if (!fail_len) {
		fail_len = len < sizeof(fail_input) ? len : sizeof(fail_input);
		memcpy(fail_input, pkt, fail_len);
	}
}

static uint64_t one_verdict(const struct run *r, struct tally *t, char *why, size_t wl)
{
	uint64_t n = 0;

	for (int i = 0; i < OAK_STAT_MAX; i++) {
		t->verdicts[i] += r->st[i];
		if (!is_annotation(i))
			n += r->st[i];
	}
	if (n != 1) {
		int o = snprintf(why, wl, "%llu verdicts counted:", (unsigned long long)n);

		for (int i = 0; i < OAK_STAT_MAX && o < (int)wl - 24; i++)
			if (r->st[i])
				o += snprintf(why + o, wl - (size_t)o, " %s+%llu", stat_names[i],
					      (unsigned long long)r->st[i]);
	}
	return n;
}

static bool rewritten(const struct run *r)
{
	return r->st[OAK_STAT_TRANSLATED] || r->st[OAK_STAT_REV_TRANSLATED] ||
	       r->st[OAK_STAT_ENCAP] || r->st[OAK_STAT_PORT_DNAT] || r->st[OAK_STAT_PORT_REPLY] ||
	       r->st[OAK_STAT_LOCAL];
}

/* checksums of a translated packet that was built valid */
static bool out_csums_ok(const struct run *r)
{
	bool encapped;
	const uint8_t *ip = out_ip(r, &encapped);
	size_t avail;

	if (!ip)
		return false;
	avail = r->len - (size_t)(ip - r->out);
	return ip_csum_ok(ip) && l4_csum_ok(ip, avail);
}

static void check_tc(const char *prog, struct tally *t, enum mutation m, const uint8_t *in,
		     size_t len, const struct run *r, bool inner_wf, bool outer_ok, bool csum_valid)
{
	char why[256] = "";

	t->runs++;
	t->by_mut[m]++;
	if (!inner_wf)
		t->malformed_in++;
	if (one_verdict(r, t, why, sizeof(why)) != 1) {
		dump_fail(prog, m, in, len, why);
		return;
	}
	if (rewritten(r))
		t->translated++;
	if (r->st[OAK_STAT_DECAP_TC] && !outer_ok) {
		dump_fail(prog, m, in, len, "tunnel removed from a malformed outer header");
		return;
	}
	/* local delivery counts alone for an Instance IP dialled directly,
	 * whose source is translated: it is a rewrite too */
	if (rewritten(r) && !inner_wf) {
		dump_fail(prog, m, in, len, "a malformed packet was translated or encapsulated");
		return;
	}
	if (r->ret == TC_ACT_OK && !rewritten(r) && !r->st[OAK_STAT_DECAP_TC] &&
	    (r->len != len || memcmp(r->out, in, len))) {
		dump_fail(prog, m, in, len, "passed untranslated but changed");
		return;
	}
	if (r->st[OAK_STAT_ENCAP] && r->len > ETH_HLEN + UP_MTU) {
		dump_fail(prog, m, in, len, "encapsulated beyond the uplink MTU");
		return;
	}
	if (csum_valid && m == M_NONE &&
	    (r->st[OAK_STAT_TRANSLATED] || r->st[OAK_STAT_REV_TRANSLATED]) && !out_csums_ok(r))
		dump_fail(prog, m, in, len, "translated packet's checksums do not verify");
}

/* BPF_PROG_TEST_RUN refuses (EINVAL) some frames shorter than Ethernet +
 * IPv4 headers (a bare Ethernet header; other ethertypes); counted, and
 * the datapath test's short-frame cases cover the rest */
static uint64_t n_refused;

static bool refused(size_t len)
{
	if (errno != EINVAL || len >= ETH_HLEN + IPH)
		return false;
	n_refused++;
	return true;
}

static int fuzz_inst(uint32_t n)
{
	static struct run r;
	uint8_t pkt[2048];

	for (uint32_t i = 0; i < n; i++) {
		int who = (int)below(4); /* C, L1, L2, L3 */
		struct spec s = random_spec(who, pick_dst());
		enum mutation m = (enum mutation)below(M_N);
		size_t len;

		if (m == M_OPTIONS)
			s.ihl = (uint8_t)(6 + below(10));
		len = build(pkt, &s);
		len = mutate(pkt, len, ETH_HLEN, m, sizeof(pkt));
		if (from_inst(who, pkt, len, &r)) {
			if (refused(len))
				continue;
			printf("oak_from_inst: %zu bytes, mutation %s: %s\n", len, mut_names[m],
			       failbuf);
			return -1;
		}
		check_tc("oak_from_inst", &T_inst, m, pkt, len, &r, eth_ip_well_formed(pkt, len),
			 true, m == M_NONE);
	}
	return 0;
}

/* a reply to a flow of C's to a remote service, or a packet to a local
 * instance, through the tunnel; the inner or the outer header mutated */
static int fuzz_uplink(uint32_t n)
{
	static struct run r;
	uint8_t pkt[2048], tun[2200];

	for (uint32_t i = 0; i < n; i++) {
		enum mutation m = (enum mutation)below(M_N);
		bool outer = below(3) == 0, wf_in, wf_out;
		int from = R1 + (int)below(3);
		struct spec s;
		size_t len, tlen;

		if (below(2)) {
			/* a flow C -> SVC_RREM first, so that the reply has state */
			struct spec f = mk(IPPROTO_TCP, insts[C].ns_ip, SVC_RREM,
					   (uint16_t)(1024 + below(60000)), 80);

			f.proto = below(2) ? IPPROTO_TCP : IPPROTO_UDP;
			len = build(pkt, &f);
			if (from_inst(C, pkt, len, &r))
				return -1;
			check_tc("oak_from_inst", &T_inst, M_NONE, pkt, len, &r, true, true, true);
			from = picked(&r) >= R1 ? picked(&r) : R1;
			s = mk(f.proto, insts[from].inst_ip, insts[C].inst_ip, f.dport, f.sport);
		} else {
			s = random_spec(L1, insts[below(4)].inst_ip);
			s.saddr = below(4) ? insts[from].inst_ip : rnd();
		}
		s.smac = PEER_MAC;
		s.payload = (uint16_t)below(300);
		if (m == M_OPTIONS && !outer)
			s.ihl = (uint8_t)(6 + below(10));
		len = build(pkt, &s);
		if (!outer)
			len = mutate(pkt, len, ETH_HLEN, m, sizeof(pkt));
		if (len < ETH_HLEN)
			len = ETH_HLEN;
		tlen = encap(tun, pkt, len, below(8) ? PEER_IP : rnd(), NODE_IP, OAK_TUNNEL_PORT);
		if (outer) {
			if (m == M_OPTIONS) /* an outer with options: one NOP word inserted */
				m = M_IHL;
			tlen = mutate(tun, tlen, ETH_HLEN, m, sizeof(tun));
			if (below(4) == 0 && tlen >= ETH_HLEN + IPH + 8) {
				uint16_t v = htons((uint16_t)rnd()); /* the UDP length */

				memcpy(tun + ETH_HLEN + IPH + 4, &v, 2);
			}
		}
		wf_out = tunnel_well_formed(tun, tlen);
		wf_in = wf_out && ip_well_formed(tun + ETH_HLEN + 28, tlen - ETH_HLEN - 28);
		if (from_uplink(tun, tlen, &r)) {
			if (refused(tlen))
				continue;
			printf("oak_from_uplink: %zu bytes, mutation %s: %s\n", tlen, mut_names[m],
			       failbuf);
			return -1;
		}
		check_tc("oak_from_uplink", &T_up, m, tun, tlen, &r, wf_in || !wf_out, wf_out,
			 false);
		/* a tunnel datagram with a malformed outer must not be decapped: inner_wf
		 * is vacuous then, the decap check above catches it */
	}
	return 0;
}

static int fuzz_xdp(uint32_t n)
{
	uint8_t pkt[2048], tun[2200], out[OUTSZ];

	for (uint32_t i = 0; i < n; i++) {
		enum mutation m = (enum mutation)below(M_N);
		struct spec s = random_spec(L1, insts[below(4)].inst_ip);
		uint64_t before[OAK_STAT_MAX], after[OAK_STAT_MAX], nv = 0;
		size_t len, tlen;
		char why[160] = "";
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = OUTSZ,
			    .repeat = 1);

		s.saddr = insts[R1 + (int)below(3)].inst_ip;
		s.smac = PEER_MAC;
		len = build(pkt, &s);
		tlen = encap(tun, pkt, len, PEER_IP, below(8) ? NODE_IP : rnd(),
			     below(8) ? OAK_TUNNEL_PORT : (uint16_t)rnd());
		if (m == M_OPTIONS)
			m = M_IHL;
		tlen = mutate(tun, tlen, ETH_HLEN, m, sizeof(tun));
		o.data_in = tun;
		o.data_size_in = (uint32_t)tlen;
		stats_read(before);
		if (bpf_prog_test_run_opts(E.p_xdp, &o)) {
			if (refused(tlen))
				continue;
			fprintf(stderr, "xdp test run (%zu bytes): %s\n", tlen, strerror(errno));
			return -1;
		}
		stats_read(after);
		T_xdp.runs++;
		T_xdp.by_mut[m]++;
		for (int k = 0; k < OAK_STAT_MAX; k++) {
			uint64_t d = after[k] - before[k];

			T_xdp.verdicts[k] += d;
			nv += d;
		}
		if (nv > 1)
			snprintf(why, sizeof(why), "%llu stats counted", (unsigned long long)nv);
		else if (o.retval == XDP_PASS && nv == 0 &&
			 (o.data_size_out != tlen || memcmp(out, tun, tlen)))
			snprintf(why, sizeof(why), "passed uncounted but changed");
		else if (o.retval == XDP_PASS && nv == 1 &&
			 after[OAK_STAT_DECAP_XDP] == before[OAK_STAT_DECAP_XDP])
			snprintf(why, sizeof(why), "XDP_PASS counted as another verdict");
		else if (after[OAK_STAT_DECAP_XDP] != before[OAK_STAT_DECAP_XDP] &&
			 !tunnel_well_formed(tun, tlen))
			snprintf(why, sizeof(why), "tunnel removed from a malformed outer header");
		else if (o.retval == XDP_DROP && after[OAK_STAT_DROP] == before[OAK_STAT_DROP])
			snprintf(why, sizeof(why), "XDP_DROP not counted drop");
		else if (o.retval != XDP_PASS && o.retval != XDP_DROP)
			snprintf(why, sizeof(why), "verdict %u", o.retval);
		if (after[OAK_STAT_DECAP_XDP] != before[OAK_STAT_DECAP_XDP])
			T_xdp.translated++;
		if (why[0])
			dump_fail("oak_xdp_decap", m, tun, tlen, why);
	}
	return 0;
}

static void print_tally(const char *prog, const struct tally *t)
{
	uint64_t sum = 0;

	printf("%s: %llu packets (%llu malformed, %llu rewritten or decapped), stats:", prog,
	       (unsigned long long)t->runs, (unsigned long long)t->malformed_in,
	       (unsigned long long)t->translated);
	for (int i = 0; i < OAK_STAT_MAX; i++)
		if (t->verdicts[i]) {
			printf(" %s=%llu", stat_names[i], (unsigned long long)t->verdicts[i]);
			if (!is_annotation(i))
				sum += t->verdicts[i];
		}
	printf(" (verdict sum %llu)\n", (unsigned long long)sum);
}

int main(int argc, char **argv)
{
	const char *ns = getenv("OAK_BPF_FUZZ_N"), *seed = getenv("OAK_BPF_FUZZ_SEED");
	uint32_t n = ns ? (uint32_t)strtoul(ns, NULL, 10) : 20000;
	int passed = 0;
	uint64_t xdp_sum;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: test_bpf_fuzz needs root\n");
		return 77;
	}
	rng_state = seed ? strtoull(seed, NULL, 0) : 1;
	if (!rng_state)
		rng_state = 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(unpin_all);
	if (setup_net() || setup_bpf() || setup_maps()) {
		fprintf(stderr, "setup failed\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	if (fuzz_inst(n) || fuzz_uplink(n) || fuzz_xdp(n)) {
		printf("0 passed, 1 failed: %s\n", failbuf);
		return 1;
	}
	print_tally("oak_from_inst", &T_inst);
	print_tally("oak_from_uplink", &T_up);
	print_tally("oak_xdp_decap", &T_xdp);
	/* accounting over the whole run: every tc packet one verdict; every XDP
	 * packet decapped, dropped, or passed untouched and uncounted */
	for (int k = 0; k < 2; k++) {
		const struct tally *t = k ? &T_up : &T_inst;
		uint64_t sum = 0;

		for (int i = 0; i < OAK_STAT_MAX; i++)
			if (!is_annotation(i))
				sum += t->verdicts[i];
		if (sum == t->runs)
			passed++;
		else
			printf("FAIL %s: %llu verdicts for %llu packets\n",
			       k ? "oak_from_uplink" : "oak_from_inst", (unsigned long long)sum,
			       (unsigned long long)t->runs);
	}
	xdp_sum = T_xdp.verdicts[OAK_STAT_DECAP_XDP] + T_xdp.verdicts[OAK_STAT_DROP];
	printf("oak_xdp_decap: %llu decapped or dropped, %llu passed untouched\n",
	       (unsigned long long)xdp_sum, (unsigned long long)(T_xdp.runs - xdp_sum));
	passed += failures == 0;
	printf("BPF-FUZZ seed=%llu packets=%llu refused_by_kernel=%llu failures=%d\n",
	       (unsigned long long)(seed ? strtoull(seed, NULL, 0) : 1),
	       (unsigned long long)(T_inst.runs + T_up.runs + T_xdp.runs),
	       (unsigned long long)n_refused, failures);
	oak_xdp__destroy(E.xdp);
	oak_tc__destroy(E.tc);
	printf("%d passed, %d failed\n", passed, failures ? 1 : 0);
	return failures ? 1 : 0;
}
