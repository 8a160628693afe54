#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The detection evaluation in its short form (scripts/eval/eval --short): every rendering of a
# registered value (plain contexts, phone/email/ID forms, split sends, escapes, base64, hashes,
# gzip/deflate, UTF-16 and full-width text, HTTP/2, weak fields) and bulk messages of 1, 10 and
# 100 subjects on the syscall and TLS channels, plus 1 MB of benign traffic. Fails unless every
# row has 100 % recall, there is no false finding, the kernel stage stayed within 1
# false-positive event per 10 MB, and (once findings carry message) every message's findings
# share its id and count. scripts/eval/eval makes its own namespace, peer and data.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

for need in curl:curl openssl:openssl; do
	if ! command -v "${need%%:*}" >/dev/null; then
		[[ "${CI:-}" == true ]] && fail "${need%%:*} not installed (Debian package ${need#*:})"
		echo "SKIP: ${need%%:*} not installed (apt-get install ${need#*:})"
		exit 77
	fi
done
[[ -x "$CONSENTRY" ]] ||
	fail "consentry binary not found at $CONSENTRY (run make, or set CONSENTRY)"
WORK=$(mktemp -d "/tmp/cs-e2e-$E2E_NAME.XXXXXX")
keep=()
[[ "${CS_KEEP:-}" == 1 ]] && keep=(--keep)
# In the background so that a SIGTERM (tests/run timeout) reaches the trap at once, which
# stops the harness (it tears down its namespace, peer and monitor) by its PID.
"$REPO/scripts/eval/eval" --short --out "$WORK/eval" "${keep[@]}" "$CONSENTRY" </dev/null &
track_pid "$!"
rc=0
wait "$!" || rc=$?
case $rc in
0) info "ok: all evaluation targets met" ;;
1)
	echo "--- misses and false findings by payload (misses.csv):" >&2
	head -n 60 "$WORK/eval/misses.csv" >&2
	fail "evaluation targets missed (table above)"
	;;
*) fail "scripts/eval/eval failed (exit $rc)" ;;
esac
