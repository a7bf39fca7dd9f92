#!/bin/sh
# Builds the Debian package from this tree in a temporary directory (the
# tree itself stays untouched), runs lintian and fails on any error or
# warning, and checks what the package contains and does at install time.
# Slow (a full build): run by CI after the meson tests, not by meson test.
# Then installs it in a systemd guest of the real-kernel tier (QEMU, Debian
# 12, systemd as PID 1): tests/vm/scenarios/sd-package.sh starts the apply
# service, checks the shield, repairs drift and purges (about 2.5 minutes;
# skipped with CPUSHIELD_NO_GUEST=1).
# usage: packaging/test-deb.sh [OUTPUT_DIR]   (keeps the .deb there)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cpushield-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }

mkdir "$tmp/cpushield"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked and new files, as they are in the work tree (no build dirs).
	(cd "$src" && git ls-files -z -co --exclude-standard | tar --null -cf - -T -) | tar -xf - -C "$tmp/cpushield"
else
	tar -C "$src" --exclude='./build*' --exclude=./stage -cf - . | tar -xf - -C "$tmp/cpushield"
fi

echo "test-deb: dpkg-buildpackage -us -uc -b in $tmp"
(cd "$tmp/cpushield" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
	{ tail -50 "$tmp/build.log"; fail "dpkg-buildpackage"; }
deb=$(ls "$tmp"/cpushield_*.deb)

echo "test-deb: lintian"
rc=0
lintian --allow-root --fail-on error,warning "$tmp"/cpushield_*.changes >"$tmp/lintian.txt" 2>&1 || rc=$?
cat "$tmp/lintian.txt"
! grep -Eq '^[EW]: ' "$tmp/lintian.txt" || fail "lintian reports errors or warnings"
[ "$rc" = 0 ] || fail "lintian exited $rc"

echo "test-deb: contents"
dpkg-deb -c "$deb" | awk '{print $1, $6}' >"$tmp/contents.txt"
for want in \
	'-rwxr-xr-x ./usr/sbin/cpushield' \
	'-rwxr-xr-x ./etc/libvirt/hooks/qemu.d/cpushield' \
	'-rw-r--r-- ./lib/systemd/system/cpushield-watch.service' \
	'-rw-r--r-- ./lib/systemd/system/cpushield-apply.service' \
	'-rw-r--r-- ./lib/systemd/system/cpushield-apply.timer' \
	'-rw-r--r-- ./usr/lib/tmpfiles.d/cpushield.conf' \
	'-rw-r--r-- ./usr/share/cpushield/cpushield.schema.json' \
	'-rw-r--r-- ./usr/share/doc/cpushield/examples/desktop-4790k.yaml' \
	'-rw-r--r-- ./usr/share/doc/cpushield/README.Debian' \
	'-rw-r--r-- ./usr/share/man/man8/cpushield.8.gz' \
	'-rw-r--r-- ./usr/share/man/man5/cpushield.yaml.5.gz' \
	'-rw-r--r-- ./usr/share/bash-completion/completions/cpushield'; do
	grep -qxF -- "$want" "$tmp/contents.txt" || fail "not in the package: $want"
done
etc=$(grep -E '^-.* \./etc/' "$tmp/contents.txt" | awk '{print $2}')
[ "$etc" = ./etc/libvirt/hooks/qemu.d/cpushield ] || fail "files in /etc other than the hook: $etc"

echo "test-deb: maintainer scripts"
mkdir "$tmp/control"
dpkg-deb -e "$deb" "$tmp/control"
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./etc/libvirt/hooks/qemu.d/cpushield | grep -q 'exec /usr/sbin/cpushield hook qemu' ||
	fail "the hook does not run /usr/sbin/cpushield"
grep -qx /etc/libvirt/hooks/qemu.d/cpushield "$tmp/control/conffiles" || fail "the hook is not a conffile"
# Not enabled at install: every enable is guarded by "debian-installed"
# (dh_installsystemd --no-enable: an administrator's own enabling is kept
# across upgrades); nothing is started.
enables=$(grep -c 'deb-systemd-helper enable' "$tmp/control/postinst" || true)
guards=$(grep -c 'deb-systemd-helper debian-installed' "$tmp/control/postinst" || true)
[ "$enables" = "$guards" ] || fail "postinst enables a unit on a new installation"
! grep -Eq 'deb-systemd-invoke .*(start|restart)' "$tmp/control/postinst" || fail "postinst starts a unit"
grep -q 'systemd-tmpfiles.*--create cpushield.conf' "$tmp/control/postinst" || fail "postinst does not create /run/cpushield"

if [ $# -ge 1 ]; then
	mkdir -p "$1"
	cp "$deb" "$1/"
fi
if [ -z "${CPUSHIELD_NO_GUEST:-}" ]; then
	echo "test-deb: install, apply service, drift, purge in a systemd guest (6.12, cgroup v2)"
	"$src/tests/vm/run.sh" --guest systemd --kernel 6.12 --cgroup v2 \
		--scenario "$src/tests/vm/scenarios/sd-package.sh" --file "$deb:/root/cpushield.deb" ||
		fail "the package in a systemd guest"
fi
echo "test-deb: ok ($(basename "$deb"), $(wc -l <"$tmp/contents.txt") entries)"
