#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# consentry check / enroll / run on bad inputs: exit 2 and file:line on stderr; good
# inputs: exit 0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
e2e_setup --no-ns
cd "$WORK"

OUT="$WORK/cmd.out"
ERR="$WORK/cmd.err"
# expect_status WANT DESCRIPTION CMD...: run CMD (20 s max), require exit status WANT.
expect_status() {
	local want=$1 desc=$2 rc=0
	shift 2
	timeout 20 "$@" >"$OUT" 2>"$ERR" || rc=$?
	if ((rc != want)); then
		echo "--- stdout:" >&2
		cat "$OUT" >&2
		echo "--- stderr:" >&2
		cat "$ERR" >&2
		fail "$desc: exit $rc, expected $want ($*)"
	fi
}
# expect_err DESCRIPTION TEXT...: stderr contains every TEXT.
expect_err() {
	local desc=$1 t
	shift
	for t in "$@"; do
		grep -q -F -e "$t" "$ERR" || {
			cat "$ERR" >&2
			fail "$desc: stderr lacks '$t'"
		}
	done
	info "ok: $desc"
}
# expect_check WANT DESCRIPTION [-f FP] [-k KEY] [-c CONSENT] [-R RECIPIENTS]: consentry check
# with the good inputs except those given.
expect_check() {
	local want=$1 desc=$2 f=$FP k=$KEY c=$CONSENT r=$RECIPIENTS
	shift 2
	while (($# >= 2)); do
		case $1 in
		-f) f=$2 ;;
		-k) k=$2 ;;
		-c) c=$2 ;;
		-R) r=$2 ;;
		esac
		shift 2
	done
	expect_status "$want" "$desc" "$CONSENTRY" check -f "$f" -k "$k" -c "$c" -R "$r"
}
# with_line SRC DST LINE: DST = SRC plus LINE appended; prints the new line's number.
with_line() {
	cp "$1" "$2"
	printf '%s\n' "$3" >>"$2"
	wc -l <"$2"
}

expect_check 0 "good inputs"
info "ok: good inputs pass"

n=$(with_line recipients.csv r-cidr.csv 'badnet,third-party,10.99.0.0/33')
expect_check 2 "bad CIDR" -R r-cidr.csv
expect_err "bad CIDR" "r-cidr.csv:$n"

n=$(with_line recipients.csv r-ip.csv 'badip,third-party,10.99.0.256')
expect_check 2 "bad IP" -R r-ip.csv
expect_err "bad IP" "r-ip.csv:$n"

n=$(with_line recipients.csv r-kind.csv 'someone,fourth-party,10.99.0.1')
expect_check 2 "unknown kind" -R r-kind.csv
expect_err "unknown kind" "r-kind.csv:$n" "fourth-party"

n=$(with_line consent.csv c-field.csv 'u001,adpartner,phone|shoe_size,2025-01-01T00:00:00Z,,,x')
expect_check 2 "unknown field type" -c c-field.csv
expect_err "unknown field type" "c-field.csv:$n" "shoe_size"

n=$(with_line consent.csv c-time.csv 'u001,adpartner,phone,2025-13-45T00:00:00Z,,,x')
expect_check 2 "bad timestamp" -c c-time.csv
expect_err "bad timestamp" "c-time.csv:$n"

n=$(with_line consent.csv c-time2.csv 'u001,adpartner,phone,2025-01-01T00:00:00Z,yesterday,,x')
expect_check 2 "bad expires_at" -c c-time2.csv
expect_err "bad expires_at" "c-time2.csv:$n"

printf 'subject_id,phone,shoe_size\nu9,13700000009,42\n' >reg-col.csv
expect_status 2 "unknown registrations column" "$CONSENTRY" enroll -r reg-col.csv -k "$KEY" -o fp2
expect_err "unknown registrations column" "reg-col.csv:1" "shoe_size"
[[ ! -e fp2 ]] || fail "enroll left a fingerprint file after an input error"

size=$(stat -c %s "$FP")
head -c $((size / 2)) "$FP" >fp-half
expect_check 2 "truncated fingerprint file" -f fp-half
[[ -s "$ERR" ]] || fail "truncated fingerprint file: no message"
info "ok: truncated fingerprint file refused: $(head -n 1 "$ERR")"
head -c 8 "$FP" >fp-8
expect_check 2 "fingerprint file of 8 bytes" -f fp-8
: >fp-empty
expect_check 2 "empty fingerprint file" -f fp-empty
cp "$FP" fp-flip
off=$((size * 2 / 3))
byte=$(od -An -tu1 -j "$off" -N1 "$FP" | tr -d ' ')
# shellcheck disable=SC2059 # the format is an octal escape built on purpose
printf "\\$(printf %03o $(((byte ^ 0x55) & 255)))" | dd of=fp-flip bs=1 seek="$off" conv=notrunc status=none
expect_check 2 "corrupt fingerprint file" -f fp-flip
info "ok: corrupt fingerprint file refused: $(head -n 1 "$ERR")"

head -c 32 /dev/urandom >key-other
chmod 600 key-other
expect_check 2 "wrong key" -k key-other
info "ok: wrong key refused: $(head -n 1 "$ERR")"

expect_check 2 "missing consent file" -c "$WORK/no-such.csv"
expect_status 2 "no arguments" "$CONSENTRY" check
expect_status 2 "unknown subcommand" "$CONSENTRY" frobnicate
expect_status 2 "bad --format" "$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" \
	--format xml
expect_status 2 "run with a truncated fingerprint file" "$CONSENTRY" run -f fp-half -k "$KEY" \
	-c "$CONSENT" -R "$RECIPIENTS"
! grep -q ready "$ERR" || fail "run reported ready with a truncated fingerprint file"
expect_status 2 "run with a truncated fingerprint file, mapped" "$CONSENTRY" run -f fp-half \
	-k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" --fp-memory mapped
! grep -q ready "$ERR" || fail "run --fp-memory mapped reported ready with a truncated file"
expect_status 2 "bad --fp-memory" "$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" \
	-R "$RECIPIENTS" --fp-memory swap
expect_err "bad --fp-memory" "--fp-memory: expected auto, compact or mapped, got 'swap'"
info "ok: usage and load errors exit 2"
