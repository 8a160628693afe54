# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Network-namespace helpers for consentry's end-to-end tests, demo and benchmarks. Source it.
#
#   ns_name BASE                     print a per-run name, "BASE-$$" (e.g. cs-e2e-4242)
#   ns_pick_prefix                   print a free index N: 10.77.N.0/24 and fd77:N::/64 unused
#   ns_create NAME V4 V6 [HOST...]   namespace NAME joined to the host by a veth pair:
#                                      host side V4.1/24 + V6::1/64, peer eth0 V4.2/24 + V6::2/64
#                                      plus V4.HOST/24 + V6::HOST/64 for every extra HOST number
#                                      (V4 like 10.77.5, V6 like fd77:5)
#   ns_create_auto NAME [HOST...]    ns_pick_prefix + ns_create under a lock; sets NS_V4, NS_V6
#   ns_start_server NS LOG [--bind ADDR]... PROTO:PORT...
#                                    start the sink server netns_server.py (NS "" = host
#                                    namespace), set NS_SERVER_PID; tcp ports answer HTTP/1.1
#                                    requests with 200 and swallow anything else; every
#                                    connection or datagram is logged to LOG as
#                                    "tcp|udp PORT from ADDR bytes N requests R"
#   ns_destroy NAME                  kill what runs inside, remove the veth pair and namespace
#   ns_reap_stale                    destroy cs-*-PID namespaces whose PID is gone
#
# Names carry the caller's PID, so parallel runs and leftovers of killed runs never collide.
# Functions return non-zero with a message on stderr; they do not exit.

NS_PYTHON=${NS_PYTHON:-/usr/bin/python3}
# the sink server of ns_start_server, next to this file
NS_SERVER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/netns_server.py"
NS_LOCK=${NS_LOCK:-/run/lock/consentry-netns.lock}

ns_err() {
	echo "netns: $*" >&2
	return 1
}

ns_exists() {
	ip netns list 2>/dev/null | awk '{ print $1 }' | grep -qxF -- "$1"
}

ns_name() {
	echo "${1:-cs-ns}-$$"
}

# Host-side veth name, derived from NAME so ns_destroy can find it (IFNAMSIZ: 15 chars).
ns_veth() {
	local sum
	sum=$(printf '%s' "$1" | cksum)
	echo "csv${sum%% *}"
}

ns_prefix_used() {
	local n=$1
	ip -4 -o addr show 2>/dev/null | grep -q " 10\.77\.$n\." && return 0
	ip -6 -o addr show 2>/dev/null | grep -q " fd77:$n::" && return 0
	ip -4 route show 2>/dev/null | grep -q "^10\.77\.$n\." && return 0
	return 1
}

ns_pick_prefix() {
	local n start=$((($$ % 250) + 1)) i
	for ((i = 0; i < 250; i++)); do
		n=$((((start + i - 1) % 250) + 1))
		ns_prefix_used "$n" || {
			echo "$n"
			return 0
		}
	done
	ns_err "no free 10.77.N.0/24 prefix"
}

ns_wait_dad() {
	local name=$1 veth=$2 i
	for ((i = 0; i < 100; i++)); do
		if [[ -z "$(ip -6 addr show dev "$veth" tentative 2>/dev/null)" &&
			-z "$(ip -n "$name" -6 addr show dev eth0 tentative 2>/dev/null)" ]]; then
			return 0
		fi
		sleep 0.05
	done
	ns_err "IPv6 addresses of $name still tentative after 5 s"
}

ns_create() {
	local name=$1 v4=$2 v6=$3 veth h
	shift 3 || {
		ns_err "usage: ns_create NAME V4PREFIX V6PREFIX [HOSTPART...]"
		return 1
	}
	[[ "$v4" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || ns_err "bad IPv4 prefix '$v4' (want a.b.c)" || return 1
	[[ "$v6" =~ ^[0-9a-fA-F:]+$ && "$v6" != *:: ]] || ns_err "bad IPv6 prefix '$v6' (want fd77:5)" || return 1
	[[ -r /proc/net/if_inet6 ]] || ns_err "IPv6 is disabled on this host" || return 1
	veth=$(ns_veth "$name")
	if ns_exists "$name"; then
		ns_err "namespace $name already exists"
		return 1
	fi
	ip link show "$veth" >/dev/null 2>&1 && {
		ns_err "interface $veth already exists"
		return 1
	}
	{
		ip netns add "$name" &&
			ip link add "$veth" type veth peer name eth0 netns "$name" &&
			# No duplicate address detection: addresses are usable at once, no tentative state.
			echo 0 >"/proc/sys/net/ipv6/conf/$veth/accept_dad" &&
			ip netns exec "$name" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/eth0/accept_dad' &&
			ip addr add "$v4.1/24" dev "$veth" &&
			ip addr add "$v6::1/64" dev "$veth" nodad &&
			ip -n "$name" addr add "$v4.2/24" dev eth0 &&
			ip -n "$name" addr add "$v6::2/64" dev eth0 nodad
	} || {
		ns_err "cannot create namespace $name"
		ns_destroy "$name"
		return 1
	}
	for h in "$@"; do
		{
			ip -n "$name" addr add "$v4.$h/24" dev eth0 &&
				ip -n "$name" addr add "$v6::$h/64" dev eth0 nodad
		} || {
			ns_err "cannot add address $v4.$h / $v6::$h to $name"
			ns_destroy "$name"
			return 1
		}
	done
	{
		ip -n "$name" link set lo up && ip -n "$name" link set eth0 up && ip link set "$veth" up
	} || {
		ns_err "cannot bring up links of $name"
		ns_destroy "$name"
		return 1
	}
	ns_wait_dad "$name" "$veth" || {
		ns_destroy "$name"
		return 1
	}
}

ns_create_auto() {
	local name=$1 fd n rc=0
	shift
	mkdir -p "$(dirname "$NS_LOCK")"
	exec {fd}>"$NS_LOCK"
	flock -w 30 "$fd" || {
		exec {fd}>&-
		ns_err "cannot lock $NS_LOCK"
		return 1
	}
	if n=$(ns_pick_prefix); then
		NS_V4="10.77.$n"
		NS_V6="fd77:$n"
		ns_create "$name" "$NS_V4" "$NS_V6" "$@" || rc=1
	else
		rc=1
	fi
	exec {fd}>&-
	return "$rc"
}

ns_destroy() {
	local name=$1 veth pids p i
	veth=$(ns_veth "$name")
	if ns_exists "$name"; then
		pids=$(ip netns pids "$name" 2>/dev/null || true)
		for p in $pids; do
			kill -TERM "$p" 2>/dev/null || true
		done
		for p in $pids; do
			for ((i = 0; i < 50; i++)); do
				kill -0 "$p" 2>/dev/null || break
				sleep 0.05
			done
			kill -KILL "$p" 2>/dev/null || true
		done
	fi
	# Deleting the host end removes the pair at once; namespace teardown alone is deferred.
	if ip link show "$veth" >/dev/null 2>&1; then
		ip link del "$veth" 2>/dev/null || true
	fi
	if ns_exists "$name"; then
		ip netns del "$name" || ns_err "cannot delete namespace $name" || return 1
	fi
	return 0
}

ns_reap_stale() {
	local name pid
	while read -r name _; do
		[[ "$name" =~ ^cs-[a-z0-9-]*-([0-9]+)$ ]] || continue
		pid=${BASH_REMATCH[1]}
		[[ "$pid" == "$$" ]] && continue
		kill -0 "$pid" 2>/dev/null && continue
		echo "netns: removing stale namespace $name" >&2
		ns_destroy "$name"
	done < <(ip netns list 2>/dev/null)
}


ns_start_server() {
	local ns=$1 log=$2 i
	shift 2
	: >>"$log"
	# shellcheck disable=SC2094 # the server appends to LOG, we only poll it
	if [[ -n "$ns" ]]; then
		ip netns exec "$ns" "$NS_PYTHON" -I -u "$NS_SERVER" "$log" "$@" </dev/null 2>>"$log" &
	else
		"$NS_PYTHON" -I -u "$NS_SERVER" "$log" "$@" </dev/null 2>>"$log" &
	fi
	NS_SERVER_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -qx ready "$log" && return 0
		kill -0 "$NS_SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	ns_err "server in '${ns:-host}' did not start ($*):"
	sed 's/^/  /' "$log" >&2
	kill -KILL "$NS_SERVER_PID" 2>/dev/null || true
	return 1
}
