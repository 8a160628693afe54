#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make install into a staging root (PREFIX, DESTDIR): the binary runs, the unit passes
# `systemd-analyze verify` with its ExecStart resolved in that root, `systemd-analyze security`
# rates it at most 4.5 ("OK"); make deb: the package holds the binary, the unit, the man page
# and /etc/consentry, with its control fields and conffiles.
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"
e2e_setup --no-ns
command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed"
command -v dpkg-deb >/dev/null || fail "dpkg-deb not installed"
ROOTD="$WORK/root"
make -s -C "$REPO" install DESTDIR="$ROOTD" PREFIX=/usr >"$WORK/make.log" 2>&1 ||
	fail "make install failed: $(cat "$WORK/make.log")"
for f in usr/sbin/consentry lib/systemd/system/consentry.service usr/share/man/man8/consentry.8.gz \
	etc/consentry/README; do
	[[ -f "$ROOTD/$f" ]] || fail "make install: $f missing"
done
[[ "$(stat -c %a "$ROOTD/etc/consentry")" == 700 ]] || fail "/etc/consentry is not 0700"
"$ROOTD/usr/sbin/consentry" --help | grep -q "findings" || fail "the installed binary does not run"
grep -q '^ExecStart=/usr/sbin/consentry run ' "$ROOTD/lib/systemd/system/consentry.service" ||
	fail "unit: ExecStart not resolved to PREFIX"
zcat "$ROOTD/usr/share/man/man8/consentry.8.gz" | grep -q '^\.TH CONSENTRY 8' || fail "man page"
info "ok: make install laid out binary, unit, man page and /etc/consentry"

# verify resolves the unit's dependencies and commands inside the root: give it the host's
# targets and /bin/kill (ExecReload)
mkdir -p "$ROOTD/bin"
cp /bin/kill "$ROOTD/bin/"
cp -a /lib/systemd/system/*.target /lib/systemd/system/*.slice "$ROOTD/lib/systemd/system/"
systemd-analyze verify --man=no --root="$ROOTD" "$ROOTD/lib/systemd/system/consentry.service" \
	>"$WORK/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$WORK/verify.log")"
systemd-analyze security --offline=true --root="$ROOTD" \
	"$ROOTD/lib/systemd/system/consentry.service" >"$WORK/security.log" 2>&1 ||
	fail "systemd-analyze security: $(tail -3 "$WORK/security.log")"
level=$(sed -n 's/.*Overall exposure level for consentry.service: \([0-9.]*\).*/\1/p' "$WORK/security.log")
[[ -n "$level" ]] || fail "no exposure level: $(tail -3 "$WORK/security.log")"
awk -v l="$level" 'BEGIN { exit !(l <= 4.5) }' || fail "exposure level $level > 4.5"
info "ok: unit verified; exposure level $level"

make -s -C "$REPO" deb DEB_VERSION=0.0.1 >"$WORK/make.log" 2>&1 ||
	fail "make deb failed: $(cat "$WORK/make.log")"
deb="$REPO/.output/deb/consentry_0.0.1_amd64.deb"
[[ -f "$deb" ]] || fail "no package at $deb"
dpkg-deb -c "$deb" >"$WORK/listing"
awk '{ print $NF }' "$WORK/listing" | sed 's#^\./#/#' | sort >"$WORK/contents"
for f in /usr/sbin/consentry /lib/systemd/system/consentry.service \
	/usr/share/man/man8/consentry.8.gz /etc/consentry/README; do
	grep -qx -- "$f" "$WORK/contents" || fail "package lacks $f: $(tr '\n' ' ' <"$WORK/contents")"
done
grep -q '^-rwxr-xr-x root/root .* ./usr/sbin/consentry$' "$WORK/listing" ||
	fail "package: the binary is not 0755 root:root"
[[ "$(dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' ')" == "Package: consentry Version: 0.0.1 Architecture: amd64 " ]] ||
	fail "package control: $(dpkg-deb -f "$deb" Package Version Architecture)"
[[ "$(dpkg-deb -I "$deb" conffiles)" == /etc/consentry/README ]] || fail "package conffiles"
# every library the binary links comes from a package named in Depends (libc6 aside)
deps=" $(dpkg-deb -f "$deb" Depends | sed 's/([^)]*)//g; s/,/ /g') "
while read -r lib; do
	pkg=$(dpkg -S "*/$lib" 2>/dev/null | head -n 1 | cut -d: -f1)
	[[ -n "$pkg" ]] || fail "no installed package owns $lib"
	[[ "$pkg" == libc6 || "$deps" == *" $pkg "* ]] || fail "Depends lacks $pkg (for $lib):$deps"
done < <(readelf -d "$ROOTD/usr/sbin/consentry" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
info "ok: make deb: binary, unit, man page, /etc/consentry; control, conffiles and Depends"
