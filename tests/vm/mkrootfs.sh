#!/bin/bash
# mkrootfs.sh [CACHEDIR]
#
# Builds the systemd guest's root file system once and caches it as a
# gzip'ed cpio archive (an initramfs: the kernel unpacks it and runs /init,
# here systemd itself):
#
#   CACHEDIR/rootfs-<hash>.cpio.gz     the archive
#   CACHEDIR/rootfs-<hash>.list        its paths, one per line (mkinitramfs.sh
#                                      --base-list: libraries already there
#                                      are not packed again)
#
# <hash> covers this script, so a change to the package list or the
# configuration below builds a new tree. Prints the archive's path on
# stdout, logs on stderr. Needs root (debootstrap) and Debian's mirror the
# first time ($CPUSHIELD_VM_MIRROR, default http://deb.debian.org/debian);
# about a minute, ~75 MB. Concurrent runs are serialised with flock.
#
# The tree: `debootstrap --variant=minbase bookworm` with systemd as PID 1,
# dbus and udev (without udev the serial console waits 90 s), irqbalance
# (installed, not enabled: scenarios start it), Debian's `cpuset` package
# (`cset`, for comparisons on cgroup v1), libyaml (cpushield's own
# libraries are all there: the binary packs without libraries), kmod and
# procps. Trimmed of documentation, locales and apt's lists. Gettys and
# timers that would write on the console or wake the guest are masked.
set -euo pipefail

cache=${1:-${CPUSHIELD_VM_CACHE:-$HOME/.cache/cpushield-vm}}
mirror=${CPUSHIELD_VM_MIRROR:-http://deb.debian.org/debian}
packages=systemd,systemd-sysv,dbus,udev,irqbalance,cpuset,libyaml-0-2,kmod,procps
log() { echo "mkrootfs: $*" >&2; }

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
hash=$(sha256sum < "$0" | cut -c1-16)
out=$cache/rootfs-$hash.cpio.gz
if [ -e "$out" ] && [ -e "$cache/rootfs-$hash.list" ]; then
    echo "$out"
    exit 0
fi
exec 9>"$cache/.rootfs.lock"
flock 9
if [ -e "$out" ] && [ -e "$cache/rootfs-$hash.list" ]; then
    echo "$out"
    exit 0
fi
[ "$(id -u)" = 0 ] || { log "building the root file system needs root (debootstrap)"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap missing (apt-get install debootstrap)"; exit 1; }

work=$(mktemp -d "$cache/.rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
log "debootstrap bookworm ($packages) from $mirror"
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" \
    > "$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# systemd as the initramfs's /init; no fstab (the root is the initramfs).
ln -sfn /lib/systemd/systemd "$root/init"
: > "$root/etc/fstab"
echo guest > "$root/etc/hostname"
# /etc/machine-id stays as debootstrap wrote it: an empty one would make
# every boot a "first boot" (ConditionFirstBoot=, presets applied).
passwd -R "$root" -d root >/dev/null
# Nothing on the consoles but the scenario and the kernel; no timers.
for u in getty@.service serial-getty@.service console-getty.service \
        apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service \
        e2scrub_all.timer fstrim.timer systemd-tmpfiles-clean.timer \
        dpkg-db-backup.timer man-db.timer remote-fs.target; do
    ln -sfn /dev/null "$root/etc/systemd/system/$u"
done
rm -f "$root/etc/systemd/system/multi-user.target.wants/irqbalance.service"
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' \
    > "$root/etc/systemd/journald.conf.d/guest.conf"
# Trim what a test guest never reads.
rm -rf "$root"/usr/share/{doc,man,locale,info}/* "$root"/var/cache/apt/* \
    "$root"/var/lib/apt/lists/* "$root"/var/log/*.log

log "packing $(du -sh "$root" | cut -f1)"
(cd "$root" && find . -print0 | LC_ALL=C sort -z > "$work/files")
tr '\0' '\n' < "$work/files" | sed -n 's/^\.\(\/.*\)/\1/p' > "$work/list"
(cd "$root" && cpio --null -o -H newc --quiet -R 0:0 < "$work/files") | gzip -1 > "$work/rootfs.cpio.gz"
mv "$work/list" "$cache/rootfs-$hash.list"
mv "$work/rootfs.cpio.gz" "$out"
# Older trees of this script: gone.
for f in "$cache"/rootfs-*.cpio.gz "$cache"/rootfs-*.list; do
    case $f in "$cache/rootfs-$hash".*) ;; *) rm -f "$f" ;; esac
done
log "cached $out ($(du -h "$out" | cut -f1))"
echo "$out"
