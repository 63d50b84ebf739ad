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
	sockperf iptables netcat-openbsd kmod procps python3 python3-yaml util-linux bc zsh wrk curl
	# promtool and the Prometheus server of the metrics tests
	prometheus
	# the dashboard's browser test (headless Chromium through chromedriver)
	chromium chromium-driver python3-selenium
	# the container runtime and its offline test image
	containerd runc busybox-static
	# the vm tests: qemu (TCG), and what virtme-ng needs (see virtme_ng below)
	qemu-system-x86 python3-requests udev
	# the Debian packages test (tests/pkg): dpkg-shlibdeps, file
	dpkg-dev file
)

missing=()
for p in "${pkgs[@]}"; do
	case "$p" in \#*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

# virtme-ng (vng), which the vm tests boot their kernels with, is Debian's
# package of the next release (architecture all): fetched with a sources
# list of its own naming that release on the mirror this machine already
# uses (the machine's apt sources are not changed), unpacked with
# dpkg-deb -x into $VNG_TREE (not installed: dpkg does not know it), and
# called through the wrapper $VNG_BIN, which puts its helpers on PATH and
# its modules on PYTHONPATH.
VNG_RELEASE=${VNG_RELEASE:-trixie}
VNG_TREE=${VNG_TREE:-/opt/oak/virtme-ng}
VNG_BIN=${VNG_BIN:-/usr/local/bin/vng}
virtme_ng() {
	local tmp mirror deb ver opts
	[ -x "$VNG_BIN" ] && [ -x "$VNG_TREE/usr/bin/vng" ] && return 0
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # apt-get download drops to _apt
	mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 2>/dev/null |
		grep -v security | head -1)
	mirror=${mirror:-http://deb.debian.org/debian/}
	echo "deps.sh: fetching virtme-ng from $VNG_RELEASE ($mirror), unpacked into $VNG_TREE"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $VNG_RELEASE main" \
		>"$tmp/sources.list"
	mkdir -p "$tmp/lists/partial" "$tmp/deb"
	opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$tmp/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
	if ! apt-get "${opts[@]}" update -qq ||
		! (cd "$tmp/deb" && apt-get "${opts[@]}" download -qq virtme-ng); then
		echo "deps.sh: could not fetch virtme-ng from $VNG_RELEASE" >&2
		rm -rf "$tmp"
		return 1
	fi
	deb=$(ls "$tmp"/deb/virtme-ng_*_all.deb)
	ver=$(dpkg-deb -f "$deb" Version)
	rm -rf "$VNG_TREE" && mkdir -p "$VNG_TREE"
	dpkg-deb -x "$deb" "$VNG_TREE"
	{
		echo '#!/bin/sh'
		echo "# virtme-ng $ver from Debian $VNG_RELEASE, unpacked in $VNG_TREE by oak's tools/deps.sh"
		echo "PATH=$VNG_TREE/usr/bin:\$PATH"
		echo "PYTHONPATH=$VNG_TREE/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}"
		echo 'export PATH PYTHONPATH'
		echo "exec /usr/bin/python3 $VNG_TREE/usr/bin/vng \"\$@\""
	} >"$VNG_BIN"
	chmod 755 "$VNG_BIN"
	rm -rf "$tmp"
}

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# aedes, the second MQTT implementation the cluster test runs against
# (tests/e2e/CMakeLists.txt: e2e_cluster_aedes), from the npm registry into
# $AEDES_DIR; tools/brokers/aedes.mjs starts it.
AEDES_DIR=${AEDES_DIR:-/opt/oak/aedes}
AEDES_VERSION=1.2.0
aedes_npm() {
	[ -f "$AEDES_DIR/node_modules/aedes/package.json" ] &&
		grep -q "\"version\": \"$AEDES_VERSION\"" "$AEDES_DIR/node_modules/aedes/package.json" &&
		return 0
	if ! command -v npm >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm \
			>/dev/null || return 1
	fi
	echo "deps.sh: npm install aedes@$AEDES_VERSION into $AEDES_DIR"
	mkdir -p "$AEDES_DIR"
	npm install --silent --no-audit --no-fund --prefix "$AEDES_DIR" "aedes@$AEDES_VERSION" >/dev/null
}

if [ "$(id -u)" -eq 0 ]; then
	virtme_ng
	aedes_npm || echo "deps.sh: could not install aedes (npm)" >&2
elif [ ! -x "$VNG_BIN" ]; then
	echo "deps.sh: virtme-ng is missing; run as root to fetch it" >&2
fi
