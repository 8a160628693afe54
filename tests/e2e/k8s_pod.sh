#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# Kubernetes-aware process info: a sender in a cgroup laid out as the systemd driver and
# containerd make them (kubepods-burstable-pod<UID>.slice/cri-containerd-<ID>.scope) gets
# process.pod_uid and process.container_id, and the namespace and name from a kubelet-style
# pods directory (CONSENTRY_PODS_DIR, test only); a sender outside gets nulls. Two pods take
# turns (the pod is cached per cgroup, not only the last one); a pod whose log directory appears
# after its first finding is named once it is looked for again (10 s later).
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

e2e_setup
UID_=7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f
CID=9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0
CG_TOP=/kubepods-$$.slice
CG_POD=$CG_TOP/kubepods-burstable-pod${UID_//-/_}.slice
# a second pod, as the cgroupfs driver lays it out
UID2=0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
cg_mkdir "$CG_TOP" "$CG_POD" "$CG_POD/cri-containerd-$CID.scope" "$CG_TOP/burstable" \
	"$CG_TOP/burstable/pod$UID2" "$CG_TOP/burstable/pod$UID2/c2"
CG=$CG_ROOT$CG_POD/cri-containerd-$CID.scope
CG_B=$CG_ROOT$CG_TOP/burstable/pod$UID2/c2
PODS="$WORK/pods"
mkdir -p "$PODS/payments_api-7f9c8d6b5-q2w3e_$UID_" "$PODS/default_other_11111111-2222-3333-4444-555555555555"
export CONSENTRY_PODS_DIR=$PODS

# send_from CGROUP PATH: one registered phone (u005) posted by curl inside CGROUP
send_from() {
	(
		echo "$BASHPID" >"$1/cgroup.procs" || exit 99
		exec curl -sS -m 10 -o /dev/null -H 'Content-Type: application/json' \
			--data-binary '{"mobile":"13955550005"}' "http://$IP_BROKER:$PORT_HTTP/$2"
	) || fail "the sender in $1 failed"
}

monitor_start
send_from "$CG" pod
send_from "$CG_B" b-unnamed
http_post "http://$IP_BROKER:$PORT_HTTP/host" '{"email":"chen.jie@example.com"}'
send_from "$CG" pod-again
wait_findings 4
mkdir -p "$PODS/shop_web-1_$UID2"
sleep 10.5
send_from "$CG_B" b-named
wait_findings 5
monitor_stop
expect_findings 5
expect_finding '.subject == "u005" and .message.http.path == "/pod"
	and .process.pod_uid == "'"$UID_"'" and .process.container_id == "'"$CID"'"
	and .process.pod_namespace == "payments" and .process.pod_name == "api-7f9c8d6b5-q2w3e"
	and (.process.cgroup | endswith("/cri-containerd-'"$CID"'.scope"))'
expect_finding '.message.http.path == "/pod-again" and .process.pod_uid == "'"$UID_"'"
	and .process.pod_name == "api-7f9c8d6b5-q2w3e"'
expect_finding '.message.http.path == "/b-unnamed" and .process.pod_uid == "'"$UID2"'"
	and .process.pod_namespace == null and .process.pod_name == null'
expect_finding '.message.http.path == "/b-named" and .process.pod_uid == "'"$UID2"'"
	and .process.pod_namespace == "shop" and .process.pod_name == "web-1"'
expect_finding '.subject == "u004" and .process.pod_uid == null and .process.pod_name == null'
