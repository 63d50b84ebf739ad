#!/usr/bin/env bash
# The Debian packages on this machine: cpack -G DEB builds oak-node,
# oak-cluster, oak-root and oakctl; they are checked (shlibdeps, conffiles,
# maintainer scripts), installed with apt-get install ./*.deb, their units
# started, and purged; purge must leave nothing behind. Needs root.
#
# Safety: the test refuses to run (skip, 77) on a machine where any oak
# package, /etc/oak, /var/lib/oak, the oak user or an installed oak binary
# exists already, so it never overwrites or removes what a developer
# installed. Whatever happens, the trap stops what it started and purges
# what it installed. The daemons run in a network namespace of their own
# (mosquitto, REST and heartbeats on its loopback), never in the root one.
#
# Where systemd is PID 1 the units are started with systemctl; elsewhere
# (containers) each daemon is started the way its installed unit says:
# ExecStart, as User=, after systemd-analyze verify of the unit files.
#
# PKG_BUILD: a build tree configured with CMAKE_INSTALL_PREFIX=/usr (the
# units name the installed paths); without one, $OAK_BUILD/pkg is made.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
TAG=${TAG:-okp$$}
WORK=/tmp/$TAG
NS=$TAG-h
NODE=$TAG-n1
PW=oak-pkg-admin-pw
PKGS=(oak-node oak-cluster oak-root oakctl)
UNITDIR=/usr/lib/systemd/system
declare -A PIDS
INSTALLED=0
source "$SRC/tests/e2e/topo.sh"

# under flock(1): the daemons must not keep the e2e lock's descriptor
for fd in /proc/$$/fd/*; do
	[ "$(readlink "$fd")" = /tmp/oak-e2e.lock ] && eval "exec ${fd##*/}>&-"
done

[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
for t in cpack dpkg-deb apt-get setpriv mosquitto curl; do
	command -v $t >/dev/null || { echo "skip: no $t"; exit 77; }
done
# never touch a machine where oak is installed already
for p in "${PKGS[@]}"; do
	if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
		echo "skip: package $p is installed here; this test only runs on a machine without oak packages"
		exit 77
	fi
done
for f in /etc/oak /var/lib/oak /usr/sbin/oak-node /usr/sbin/oak-dp /usr/sbin/oak-cluster \
	/usr/sbin/oak-root /usr/bin/oakctl $UNITDIR/oak-node.service $UNITDIR/oak-root.service \
	$UNITDIR/oak-cluster.service; do
	[ -e "$f" ] && { echo "skip: $f exists; this test only runs on a machine without oak"; exit 77; }
done
getent passwd oak >/dev/null && { echo "skip: a user oak exists"; exit 77; }
getent group oak >/dev/null && { echo "skip: a group oak exists"; exit 77; }

pkg_cleanup() {
	local p left=()
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ -d /run/systemd/system ] && [ "$INSTALLED" = 1 ]; then
		systemctl stop oak-node oak-cluster oak-root 2>/dev/null
	fi
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$' && left+=("$p")
	done
	if [ ${#left[@]} -gt 0 ]; then
		echo "cleanup: purging ${left[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=120 "${left[@]}" \
			>>"$WORK/apt.log" 2>&1
	fi
	[ -e "/run/netns/$NS" ] && ip netns del "$NS"
	rm -rf "/sys/fs/bpf/oak/$NODE"
	for p in /sys/fs/cgroup/*/oak/"$NODE" /sys/fs/cgroup/oak/"$NODE"; do
		[ -d "$p" ] && find "$p" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	if [ "$FAILED" -ne 0 ] && [ -d "$WORK" ]; then
		mkdir -p "/tmp/$TAG.logs" && cp "$WORK"/*.log "/tmp/$TAG.logs/" 2>/dev/null
		echo "logs kept in /tmp/$TAG.logs"
	fi
	rm -rf "$WORK"
}
trap pkg_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/deb"

# --- build
BUILD=${PKG_BUILD:-}
if [ -z "$BUILD" ]; then
	OAK_BUILD=${OAK_BUILD:-$SRC/build}
	if grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$OAK_BUILD/CMakeCache.txt" 2>/dev/null; then
		BUILD=$OAK_BUILD
	else
		BUILD=$OAK_BUILD/pkg
		echo "# building the packaged targets in $BUILD (prefix /usr)"
		cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
			>"$WORK/build.log" 2>&1 &&
			nice cmake --build "$BUILD" -j2 --target oak-node oak-dp oak-cluster oak-root oakctl \
				>>"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log"; exit 1; }
	fi
fi
T0=$(date +%s.%N)
check "cpack -G DEB builds the packages" \
	cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/deb" >"$WORK/cpack.log" 2>&1
echo "# cpack: $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
deb() { ls "$WORK"/deb/"$1"_*.deb 2>/dev/null | head -1; }
has_all_debs() {
	local p
	for p in "${PKGS[@]}"; do [ -n "$(deb "$p")" ] || return 1; done
}
check "four packages: ${PKGS[*]}" has_all_debs
has_all_debs || { finish; exit 1; }

depends_on() { dpkg-deb -f "$(deb "$1")" Depends | tr ',' '\n' | grep -qE "^ *$2( |$)"; }
conffile_of() { dpkg-deb --ctrl-tarfile "$(deb "$1")" | tar -xO ./conffiles | grep -qx "$2"; }
for p in oak-node oak-cluster oak-root oakctl; do
	check "$p: Depends from dpkg-shlibdeps (libc6)" depends_on "$p" libc6
done
check "oak-root depends on its libraries (libsqlite3-0, libmicrohttpd12)" \
	eval 'depends_on oak-root libsqlite3-0 && depends_on oak-root libmicrohttpd12'
check "oak-node depends on libbpf1 and libxdp1" eval 'depends_on oak-node libbpf1 && depends_on oak-node libxdp1'
check "oak-root and oak-cluster depend on adduser (the system user)" \
	eval 'depends_on oak-root adduser && depends_on oak-cluster adduser'
for p in oak-node oak-cluster oak-root; do
	check "$p: /etc/oak/$p.conf is a conffile" conffile_of "$p" "/etc/oak/$p.conf"
done
ships() { dpkg-deb -c "$(deb "$1")" | awk '{print $6}' | grep -qx "./$2"; }
check "oakctl ships its bash and zsh completions" \
	eval 'ships oakctl usr/share/bash-completion/completions/oakctl && ships oakctl usr/share/zsh/vendor-completions/_oakctl'
lint_scripts() {
	local p s d=$WORK/ctrl
	for p in oak-node oak-cluster oak-root; do
		rm -rf "$d" && mkdir -p "$d" && dpkg-deb -e "$(deb "$p")" "$d" || return 1
		for s in postinst prerm postrm; do sh -n "$d/$s" || return 1; done
	done
}
check "maintainer scripts are valid sh" lint_scripts

# --- install
export DEBIAN_FRONTEND=noninteractive
INSTALLED=1
check "apt-get install ./*.deb" apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 \
	"$(deb oak-node)" "$(deb oak-cluster)" "$(deb oak-root)" "$(deb oakctl)" >"$WORK/apt.log" 2>&1
installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }
for p in "${PKGS[@]}"; do check "$p is installed" installed "$p"; done
system_user() {
	local uid
	uid=$(getent passwd oak | cut -d: -f3) && [ -n "$uid" ] && [ "$uid" -lt 1000 ] &&
		getent group oak >/dev/null
}
check "a system user and group oak exist" system_user
check "/var/lib/oak belongs to oak" eval '[ "$(stat -c %U:%G /var/lib/oak)" = oak:oak ]'
for u in oak-node oak-cluster oak-root; do
	check "$u.service is enabled (multi-user.target.wants)" \
		test -L "/etc/systemd/system/multi-user.target.wants/$u.service"
done
check "dpkg lists the conffiles" eval 'dpkg-query -W -f="\${Conffiles}" oak-root | grep -q /etc/oak/oak-root.conf'
check "oakctl runs" eval '/usr/bin/oakctl --help | grep -q "usage: oakctl"'
if command -v systemd-analyze >/dev/null; then
	for u in oak-node oak-cluster oak-root; do
		check "systemd-analyze verify $u.service" \
			eval "systemd-analyze verify $UNITDIR/$u.service >'$WORK/verify-$u.log' 2>&1 && ! grep -q . '$WORK/verify-$u.log'"
		sed 's/^/       /' "$WORK/verify-$u.log"
	done
fi

# --- start the units
ip netns add "$NS"
ip -n "$NS" link set lo up
# the packaged oak-node.conf names uplink eth0 and node_ip 192.0.2.10
ip -n "$NS" link add eth0 type veth peer name peer0
ip -n "$NS" addr add 192.0.2.10/24 dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set peer0 up
nsx "$NS" mosquitto -p 1883 >"$WORK/mosquitto.log" 2>&1 &
PIDS[mosquitto]=$!

unit_key() { sed -n "s/^$2=//p" "$UNITDIR/$1.service" | tail -1; }
# start_unit UNIT [ARGS...]: as its unit file says (ExecStart as User=),
# with ARGS appended (the node's id, so that its pins are this test's)
start_unit() {
	local u=$1 user exec
	shift
	user=$(unit_key "$u" User)
	exec=$(unit_key "$u" ExecStart)
	if [ -n "$user" ]; then
		nsenter --net="/run/netns/$NS" setpriv --reuid="$user" --regid="$user" --init-groups -- \
			$exec "$@" >>"$WORK/$u.log" 2>&1 &
	else
		nsenter --net="/run/netns/$NS" $exec "$@" >>"$WORK/$u.log" 2>&1 &
	fi
	PIDS[$u]=$!
}
if [ -d /run/systemd/system ]; then
	echo "# systemd is PID 1: the units are not started here, since they would serve on the"
	echo "# machine's own network; this test starts the daemons inside $NS as the units say"
else
	echo "# systemd is not PID 1 here ($(ps -p 1 -o comm=)): the daemons are started as their units say"
fi
# oak-root's first start, as its conffile says: the Admin user, as User=oak
check "oak-root --init-admin as user oak" \
	setpriv --reuid=oak --regid=oak --init-groups -- /usr/sbin/oak-root --config /etc/oak/oak-root.conf \
	--init-admin --admin-password "$PW" >"$WORK/init.log" 2>&1
start_unit oak-root
start_unit oak-cluster
start_unit oak-node --node_id "$NODE"

runs_as() { [ "$(ps -o user= -p "${PIDS[$1]}" 2>/dev/null)" = "$2" ]; }
octl() { nsx "$NS" env OAK_ROOT_URL=http://127.0.0.1:10000 OAK_USER=Admin OAK_PASSWORD=$PW \
	OAKCTL_CONFIG="$WORK/oakctl.json" /usr/bin/oakctl "$@"; }
eventually() { # eventually SECONDS CMD...
	local end=$(($(date +%s) + $1))
	shift
	while :; do
		"$@" >"$WORK/out" 2>&1 && return 0
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.5
	done
}
check "the REST API answers (oakctl get clusters as Admin)" eventually 20 octl get clusters
check "the cluster registers at the root" eventually 30 eval "octl get clusters | grep -q '$(hostname)'"
one_node() {
	octl --json get clusters | /usr/bin/python3 -c 'import json, sys
sys.exit(0 if [c.get("active_nodes") for c in json.load(sys.stdin)] == [1] else 1)'
}
check "the node joins its cluster (oakctl: 1 active node)" eventually 30 one_node
check "oak-root runs as oak" runs_as oak-root oak
check "oak-cluster runs as oak" runs_as oak-cluster oak
check "oak-node runs as root" runs_as oak-node root
check "oak-root's database is in /var/lib/oak/root, owned by oak" \
	eval '[ "$(stat -c %U /var/lib/oak/root/root.db)" = oak ]'
check "oak-node pinned its maps" test -d "/sys/fs/bpf/oak/$NODE"
for u in oak-node oak-cluster oak-root; do
	kill "${PIDS[$u]}" 2>/dev/null
	wait "${PIDS[$u]}" 2>/dev/null
	unset "PIDS[$u]"
done
nsx "$NS" /usr/sbin/oak-dp --node "$NODE" purge >/dev/null 2>&1 || rm -rf "/sys/fs/bpf/oak/$NODE"

# --- remove: an edited conffile stays, purge takes everything
echo "# edited by $0" >>/etc/oak/oak-root.conf
check "apt-get remove" apt-get remove -y -q -o DPkg::Lock::Timeout=120 "${PKGS[@]}" >>"$WORK/apt.log" 2>&1
check "remove keeps the edited conffile" grep -q "edited by" /etc/oak/oak-root.conf
# oakctl has no conffile: remove took it all, and apt-get purge would not know it
left=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$' && left+=("$p")
done
check "oakctl is gone after remove (no conffiles)" eval '! dpkg-query -W oakctl >/dev/null 2>&1'
check "apt-get purge ${left[*]}" apt-get purge -y -q -o DPkg::Lock::Timeout=120 "${left[@]}" >>"$WORK/apt.log" 2>&1
INSTALLED=0
leftovers() {
	local f p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$' && echo "package $p"
	done
	for f in /etc/oak /var/lib/oak /usr/sbin/oak-node /usr/sbin/oak-dp /usr/sbin/oak-cluster \
		/usr/sbin/oak-root /usr/bin/oakctl /usr/share/oak $UNITDIR/oak-*.service \
		/etc/systemd/system/oak-*.service /etc/systemd/system/*.wants/oak-*.service \
		/var/lib/systemd/deb-systemd-helper-enabled/oak-* \
		/var/lib/systemd/deb-systemd-helper-enabled/*.wants/oak-* \
		/var/lib/systemd/deb-systemd-helper-masked/oak-*; do
		[ -e "$f" ] || [ -L "$f" ] && echo "$f"
	done
	getent passwd oak && echo "user oak"
	getent group oak && echo "group oak"
}
check "purge leaves nothing behind" eval '[ -z "$(leftovers | tee "$WORK/out")" ]'
leftovers | sed 's/^/       left: /'
finish
