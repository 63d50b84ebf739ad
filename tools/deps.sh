#!/usr/bin/env bash
# Installs the Debian packages oak needs to build, test and run the demo.
# Does nothing when everything is already there. Needs root and apt.
set -euo pipefail

pkgs=(
	# build
	cmake make gcc clang llvm pkg-config
	# datapath
	libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev libmnl-dev
	# control plane
	libjansson-dev libmosquitto-dev mosquitto mosquitto-clients
	libmicrohttpd-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev openssl libcrypt-dev
	# tests and benchmarks
	libcmocka-dev libclang-rt-14-dev iproute2 iputils-ping ethtool iperf3
	sockperf iptables netcat-openbsd kmod procps python3 util-linux bc
	# the dashboard's browser test (headless Chromium through chromedriver)
	chromium chromium-driver python3-selenium
	# the container runtime and its offline test image
	containerd runc busybox-static
)

missing=()
for p in "${pkgs[@]}"; do
	case "$p" in \#*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
