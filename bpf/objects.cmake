oak_bpf_object(NAME oak_tc SOURCE bpf/oak_tc.bpf.c)
oak_bpf_object(NAME oak_xdp SOURCE bpf/oak_xdp.bpf.c)
