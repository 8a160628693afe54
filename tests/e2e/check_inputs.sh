#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# consentry check / enroll / run / scan-pcap on bad inputs: exit 2 and file:line on stderr; good
# inputs: exit 0.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
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

# A NUL byte inside a field is an input error with file:line, never a cut-short value: a consent
# row for "u001<NUL>x" must not grant u001 anything, a match list must not lose "evil.com".
cp consent.csv c-nul.csv
printf 'u001\0x,databroker,phone,2025-01-01T00:00:00Z,,,x\n' >>c-nul.csv
n=$(wc -l <c-nul.csv)
expect_check 2 "NUL byte in a consent subject" -c c-nul.csv
expect_err "NUL byte in a consent subject" "c-nul.csv:$n: field 1: NUL byte (expected text"
cp consent.csv c-nul2.csv
printf 'u001,adpartner,phone\0|email,2025-01-01T00:00:00Z,,,x\n' >>c-nul2.csv
n=$(wc -l <c-nul2.csv)
expect_check 2 "NUL byte in consent fields" -c c-nul2.csv
expect_err "NUL byte in consent fields" "c-nul2.csv:$n: field 3: NUL byte"
cp recipients.csv r-nul.csv
printf 'evilcorp,third-party,"10.99.0.2\0 evil.com"\n' >>r-nul.csv
n=$(wc -l <r-nul.csv)
expect_check 2 "NUL byte in a match list" -R r-nul.csv
expect_err "NUL byte in a match list" "r-nul.csv:$n: field 3: NUL byte"

# Inputs that are not regular files: exit 2 with a message, at once (a FIFO never blocks, a
# device is never read).
mkdir in-dir
mkfifo in-fifo
expect_check 2 "consent.csv is a directory" -c in-dir
expect_err "consent.csv is a directory" "in-dir: not a regular file (a directory); expected a regular consent file"
expect_check 2 "recipients.csv is a directory" -R in-dir
expect_err "recipients.csv is a directory" "in-dir: not a regular file (a directory); expected a regular recipients file"
for opt in -f -k -c -R; do
	expect_check 2 "$opt FIFO" "$opt" in-fifo
	expect_err "$opt FIFO" "in-fifo: not a regular file (a FIFO); expected a regular"
done
for opt in -c -R; do
	expect_check 2 "$opt /dev/zero" "$opt" /dev/zero
	expect_err "$opt /dev/zero" "/dev/zero: not a regular file (a character device)"
done
expect_status 2 "enroll -r FIFO" "$CONSENTRY" enroll -r in-fifo -k "$KEY" -o fp3
expect_err "enroll -r FIFO" "in-fifo: not a regular file (a FIFO); expected a regular registrations file"
expect_status 2 "enroll -r /dev/zero" "$CONSENTRY" enroll -r /dev/zero -k "$KEY" -o fp3
expect_err "enroll -r /dev/zero" "/dev/zero: not a regular file (a character device)"
expect_status 2 "run -c FIFO" "$CONSENTRY" run -f "$FP" -k "$KEY" -c in-fifo -R "$RECIPIENTS"
expect_err "run -c FIFO" "in-fifo: not a regular file (a FIFO)"
expect_status 2 "run --tls-lib FIFO" "$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" \
	-R "$RECIPIENTS" --tls-lib in-fifo
expect_err "run --tls-lib FIFO" "in-fifo: not a regular file (a FIFO); expected a regular --tls-lib file"

# --geoip (check, run, scan-pcap): a country database is accepted; a file that is missing, not
# a MaxMind DB or without country data is exit 2 naming it, before anything is loaded or read.
printf '10.0.0.0/8 DE\n192.0.2.0/24 US\n' >geo.txt
"$PY" -I "$REPO/scripts/gen/mkmmdb.py" geo.txt geo.mmdb
[[ "$(mmdblookup --file geo.mmdb --ip 192.0.2.1 country iso_code)" == *'"US" <utf8_string>'* ]] ||
	fail "mmdblookup does not read US for 192.0.2.1 in geo.mmdb"
printf '10.0.0.0/8 - -\n' >geo-none.txt
"$PY" -I "$REPO/scripts/gen/mkmmdb.py" geo-none.txt geo-none.mmdb
head -c 300 /dev/urandom >geo-random.mmdb
expect_status 0 "check --geoip" "$CONSENTRY" check -f "$FP" -k "$KEY" -c "$CONSENT" -R "$RECIPIENTS" \
	--geoip geo.mmdb
expect_status 2 "check --geoip random bytes" "$CONSENTRY" check -f "$FP" -k "$KEY" -c "$CONSENT" \
	-R "$RECIPIENTS" --geoip geo-random.mmdb
expect_err "check --geoip random bytes" "geo-random.mmdb: not a MaxMind DB (.mmdb) file"
expect_status 2 "check --geoip without countries" "$CONSENTRY" check -f "$FP" -k "$KEY" \
	-c "$CONSENT" -R "$RECIPIENTS" --geoip geo-none.mmdb
expect_err "check --geoip without countries" "geo-none.mmdb: MaxMind DB of type 'consentry-test-Country' has no country data"
expect_status 2 "check --geoip missing" "$CONSENTRY" check -f "$FP" -k "$KEY" -c "$CONSENT" \
	-R "$RECIPIENTS" --geoip no-such.mmdb
expect_err "check --geoip missing" "no-such.mmdb: cannot open GeoIP (MaxMind DB) file: No such file"
expect_status 2 "check --geoip FIFO" "$CONSENTRY" check -f "$FP" -k "$KEY" -c "$CONSENT" \
	-R "$RECIPIENTS" --geoip in-fifo
expect_err "check --geoip FIFO" "in-fifo: not a regular file (a FIFO)"
expect_status 2 "run --geoip random bytes" "$CONSENTRY" run -f "$FP" -k "$KEY" -c "$CONSENT" \
	-R "$RECIPIENTS" --geoip geo-random.mmdb
expect_err "run --geoip random bytes" "geo-random.mmdb: not a MaxMind DB (.mmdb) file"
! grep -q ready "$ERR" || fail "run reported ready with a bad --geoip file"
expect_status 2 "scan-pcap --geoip without countries" "$CONSENTRY" scan-pcap -f "$FP" -k "$KEY" \
	-c "$CONSENT" -R "$RECIPIENTS" --geoip geo-none.mmdb "$CONSENT"
expect_err "scan-pcap --geoip without countries" "geo-none.mmdb: MaxMind DB of type"
info "ok: --geoip country database accepted, bad ones refused by check, run and scan-pcap"

# Key and fingerprint files others could write or repoint are refused.
cp "$FP" fp-gw
chmod 664 fp-gw
expect_check 2 "group-writable fingerprint file" -f fp-gw
expect_err "group-writable fingerprint file" "fp-gw: fingerprint file mode 0664 lets the group or others write it"
cp "$FP" fp-ow
chmod 0602 fp-ow
expect_check 2 "world-writable fingerprint file" -f fp-ow
expect_err "world-writable fingerprint file" "fp-ow: fingerprint file mode 0602"
cp "$KEY" key-gw
chmod 620 key-gw
expect_check 2 "group-writable key file" -k key-gw
expect_err "group-writable key file" "key-gw: key file mode 0620 lets the group or others write it"
ln -s "$FP" fp-link
chown -h nobody fp-link
expect_check 2 "fingerprint symlink owned by another user" -f fp-link
expect_err "fingerprint symlink owned by another user" "fp-link: fingerprint file is a symlink owned by uid $(id -u nobody)"
ln -s "$KEY" key-link
chown -h nobody key-link
expect_check 2 "key symlink owned by another user" -k key-link
expect_err "key symlink owned by another user" "key-link: key file is a symlink owned by uid $(id -u nobody)"
ln -s "$FP" fp-mylink
ln -s "$KEY" key-mylink
expect_check 0 "symlinks owned by root" -f fp-mylink -k key-mylink
info "ok: NUL bytes, non-regular files, writable and foreign-symlinked inputs refused"
