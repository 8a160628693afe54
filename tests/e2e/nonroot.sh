#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# As an unprivileged user (nobody): `run` exits 1 with one clear sentence naming root/CAP_BPF
# and loads nothing; `check` of valid files that user can read works (exit 0); a key file the
# user cannot read, or with a loose mode, is refused (exit 2) naming the key file.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup --no-ns

NOBODY_UID=$(id -u nobody 2>/dev/null) || fail "no user 'nobody'"
NOBODY_GID=$(id -g nobody)
AS_NOBODY=(setpriv "--reuid=$NOBODY_UID" "--regid=$NOBODY_GID" --clear-groups)
command -v setpriv >/dev/null || AS_NOBODY=(runuser -u nobody --)
BIN=$CONSENTRY
# The binary must be reachable by nobody: copy it next to the files if it is not.
if ! "${AS_NOBODY[@]}" test -x "$BIN"; then
	BIN=
fi

# A directory only nobody can use, inside $WORK (which cleanup removes).
chmod 0711 "$WORK"
U="$WORK/nobody"
mkdir "$U"
cp "$FP" "$U/fingerprints"
cp "$KEY" "$U/cs.key"
cp "$CONSENT" "$U/consent.csv"
cp "$RECIPIENTS" "$U/recipients.csv"
if [[ -z "$BIN" ]]; then
	cp "$CONSENTRY" "$U/consentry"
	BIN=$U/consentry
fi
chmod 0600 "$U/cs.key"
chown -R "$NOBODY_UID:$NOBODY_GID" "$U"
chmod 0700 "$U"

# as_nobody OUT_PREFIX ARGS...: run the binary as nobody in $U; stdout/stderr to
# OUT_PREFIX.out/.err, exit status in RC.
as_nobody() {
	local p=$1
	shift
	RC=0
	(cd "$U" && timeout -k 5 20 "${AS_NOBODY[@]}" "$BIN" "$@") </dev/null \
		>"$p.out" 2>"$p.err" || RC=$?
}

# run: refused before loading anything, exit 1, one sentence on stderr naming root/CAP_BPF.
as_nobody "$WORK/run" run -f fingerprints -k cs.key -c consent.csv -R recipients.csv \
	--format jsonl -o findings.out
((RC == 1)) || fail "run as nobody: exit $RC, expected 1; stderr: $(cat "$WORK/run.err")"
err=$(cat "$WORK/run.err")
[[ $(grep -c . "$WORK/run.err") == 1 ]] || fail "run as nobody: expected one stderr line, got: $err"
[[ "$err" == *root* && "$err" == *CAP_BPF* ]] ||
	fail "run as nobody: stderr does not mention root and CAP_BPF: $err"
[[ "$err" != *ready* ]] || fail "run as nobody: printed ready: $err"
[[ ! -s "$WORK/run.out" ]] || fail "run as nobody: wrote to stdout: $(cat "$WORK/run.out")"
[[ ! -s "$U/findings.out" ]] || fail "run as nobody: wrote findings"
info "ok: run as nobody refused (exit 1): $err"

# check: valid files readable by nobody, key owned by nobody with mode 0600 -> exit 0.
as_nobody "$WORK/check" check -f fingerprints -k cs.key -c consent.csv -R recipients.csv
((RC == 0)) || fail "check as nobody: exit $RC, expected 0; output: $(cat "$WORK/check.out" "$WORK/check.err")"
info "ok: check as nobody: $(cat "$WORK/check.out" "$WORK/check.err" | tr '\n' ' ')"

# check: the key owned by root (mode 0600, unreadable by nobody) -> exit 2 naming the key file.
chown 0:0 "$U/cs.key"
as_nobody "$WORK/check2" check -f fingerprints -k cs.key -c consent.csv -R recipients.csv
((RC == 2)) || fail "check with a root-owned key: exit $RC, expected 2"
grep -q -F cs.key "$WORK/check2.err" || fail "check with a root-owned key: no error naming the key: $(cat "$WORK/check2.err")"
info "ok: check with an unreadable key refused (exit 2)"

# check: the key readable by others (0644, owned by nobody) -> exit 2 naming the key file.
chown "$NOBODY_UID:$NOBODY_GID" "$U/cs.key"
chmod 0644 "$U/cs.key"
as_nobody "$WORK/check3" check -f fingerprints -k cs.key -c consent.csv -R recipients.csv
((RC == 2)) || fail "check with a 0644 key: exit $RC, expected 2"
grep -q -F cs.key "$WORK/check3.err" || fail "check with a 0644 key: no error naming the key: $(cat "$WORK/check3.err")"
info "ok: check with a loose key mode refused (exit 2)"
mapfile -t values < <(raw_values)
for v in "${values[@]}"; do
	if grep -a -i -F -q -e "$v" "$WORK"/run.* "$WORK"/check*.*; then
		fail "raw value '$v' in the output of run/check"
	fi
done
