#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2016,SC2119 # jq filters are single-quoted on purpose; helpers take optional args
# enroll: key created 0600 and reused, fingerprints hold no raw value, malformed rows
# reported by line and counted, unknown columns need --field, --sensitive in the summary.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup --no-ns
cd "$WORK"
rm -f key fingerprints

out=$("$CONSENTRY" enroll -r "$DATA/registrations.csv" -k key -o fingerprints 2>enroll.err) ||
	fail "enroll failed: $(cat enroll.err)"
[[ -f key ]] || fail "enroll did not create the key file"
[[ "$(stat -c %a key)" == 600 ]] || fail "key file mode $(stat -c %a key), expected 600"
[[ "$(stat -c %s key)" == 32 ]] || fail "key file is $(stat -c %s key) bytes, expected 32"
[[ -s fingerprints ]] || fail "no fingerprint file"
grep -qiE '(subjects?[^0-9]*5([^0-9]|$))|((^|[^0-9])5 subjects?)' <<<"$out" ||
	fail "summary does not report 5 subjects: $out"
info "ok: enroll summary: $(tr '\n' ' ' <<<"$out")"
mapfile -t values < <(raw_values)
for v in "${values[@]}"; do
	! grep -a -q -i -F -e "$v" fingerprints || fail "fingerprint file contains raw value '$v'"
	! grep -q -i -F -e "$v" enroll.err - <<<"$out" || fail "enroll output contains raw value '$v'"
done
info "ok: no raw value in the fingerprint file or enroll output"

sum=$(sha256sum key)
"$CONSENTRY" enroll -r "$DATA/registrations.csv" -k key -o fingerprints >/dev/null 2>&1 ||
	fail "second enroll failed"
[[ "$(sha256sum key)" == "$sum" ]] || fail "enroll replaced an existing key"
info "ok: existing key reused"

cat >bad.csv <<'CSV'
subject_id,phone,email
u101,13700000101,u101@example.com
u102,13700000102,u102@example.com,extra-column
u103,13700000103,u103@example.com
CSV
rc=0
out=$("$CONSENTRY" enroll -r bad.csv -k key -o fp-bad 2>bad.err) || rc=$?
((rc == 0)) || fail "enroll with one malformed row: exit $rc, expected 0: $(cat bad.err)"
grep -q -F "bad.csv:3" bad.err - <<<"$out" || fail "malformed row not reported as bad.csv:3: $(cat bad.err)"
grep -qiE '(subjects?[^0-9]*2([^0-9]|$))|((^|[^0-9])2 subjects?)' <<<"$out" ||
	fail "summary does not report 2 subjects: $out"
grep -qiE '(rejected[^0-9]*1([^0-9]|$))|((^|[^0-9])1 (rows? )?rejected)' <<<"$out" ||
	fail "summary does not count 1 rejected row: $out"
info "ok: malformed row reported and counted"

printf 'subject_id,mobile,mail\nu201,13700000201,u201@example.com\n' >mapped.csv
rc=0
"$CONSENTRY" enroll -r mapped.csv -k key -o fp-map >/dev/null 2>map.err || rc=$?
((rc == 2)) || fail "unmapped columns: exit $rc, expected 2"
grep -q mobile map.err || fail "error does not name the column 'mobile': $(cat map.err)"
"$CONSENTRY" enroll -r mapped.csv -k key -o fp-map --field mobile=phone --field mail=email \
	>/dev/null 2>map.err || fail "enroll --field failed: $(cat map.err)"
[[ -s fp-map ]] || fail "enroll --field wrote no fingerprint file"
info "ok: --field COL=TYPE maps unknown columns"

rc=0
"$CONSENTRY" enroll -r mapped.csv -k key -o fp-sens --field mobile=phone --field mail=email \
	--sensitive blood >/dev/null 2>sens.err || rc=$?
((rc == 2)) || fail "--sensitive blood: exit $rc, expected 2"
grep -q -F "unknown field type 'blood' (one of: address bank_card" sens.err ||
	fail "--sensitive error does not name the valid types: $(cat sens.err)"
[[ ! -e fp-sens ]] || fail "--sensitive blood wrote a fingerprint file"
out=$("$CONSENTRY" enroll -r mapped.csv -k key -o fp-sens --field mobile=phone --field mail=email \
	--sensitive none --sensitive email 2>sens.err) || fail "enroll --sensitive failed: $(cat sens.err)"
grep -qE '^sensitive +email$' <<<"$out" || fail "summary does not give the sensitive set: $out"
out=$("$CONSENTRY" enroll -r "$DATA/registrations.csv" -k key -o fingerprints 2>enroll.err) ||
	fail "enroll failed: $(cat enroll.err)"
grep -qE '^sensitive +bank_card national_id passport$' <<<"$out" ||
	fail "summary does not give the default sensitive set: $out"
grep -qE '^minors +[0-9]+ \(under 18 on the enrollment day' <<<"$out" ||
	fail "summary does not count minors: $out"
info "ok: --sensitive sets the sensitive field types, the summary gives them"
