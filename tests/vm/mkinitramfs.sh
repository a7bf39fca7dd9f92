#!/bin/bash
# mkinitramfs.sh OUT.cpio.gz --scenario SCRIPT [--binary PATH] [--modules DIR]
#                [--helper PATH]... [--file SRC:DEST]... [--systemd BASELIST]
#
# Builds the test guest's initramfs:
#   /bin/busybox + one symlink per applet    (busybox-static; $BUSYBOX overrides)
#   /usr/bin/cpushield                       (--binary, with every shared
#                                             library ldd names, the dynamic
#                                             loader at its real path)
#   /usr/bin/<name>                          (--helper, libraries too if dynamic)
#   /lib/modules/*.ko, load.order            (--modules: fetch-kernel.sh's dir)
#   /scenario.sh                             (--scenario)
#   /init                                    (tests/vm/init.sh)
#   /lib/vmlib.sh                            (tests/vm/scenarios/lib.sh)
#   DEST                                     (--file SRC:DEST, any extra file)
#
# With --systemd BASELIST (mkrootfs.sh's .list of the systemd guest's root
# file system), the archive is an overlay unpacked after that root: no
# busybox and no /init (systemd is the root's /init), libraries the root
# already has are not packed, modules go to /lib/modules/vm, and
# tests/vm/systemd/ adds the units that load them and run the scenario.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() {
    sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 1
}

[ $# -ge 1 ] || usage
out=$1; shift
binary='' scenario='' modules='' baselist=''
helpers=() files=()
while [ $# -gt 0 ]; do
    case $1 in
        --binary) binary=$2; shift 2 ;;
        --scenario) scenario=$2; shift 2 ;;
        --modules) modules=$2; shift 2 ;;
        --helper) helpers+=("$2"); shift 2 ;;
        --file) files+=("$2"); shift 2 ;;
        --systemd) baselist=$2; shift 2 ;;
        *) usage ;;
    esac
done
[ -n "$scenario" ] || usage
[ -f "$scenario" ] || { echo "mkinitramfs: no scenario $scenario" >&2; exit 1; }

busybox=${BUSYBOX:-/bin/busybox}
if [ -n "$baselist" ]; then
    [ -f "$baselist" ] || { echo "mkinitramfs: no base list $baselist" >&2; exit 1; }
elif ! "$busybox" --list >/dev/null 2>&1; then
    echo "mkinitramfs: $busybox missing (apt-get install busybox-static)" >&2
    exit 1
fi
if [ -z "$baselist" ] && LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then
    echo "mkinitramfs: $busybox is dynamically linked; install busybox-static" >&2
    exit 1
fi

root=$(mktemp -d)
# mktemp made it 0700, and the archive's "." entry sets the mode of the
# guest's "/": daemons that drop root (dbus-daemon) could not reach anything
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc,lib/modules}

if [ -z "$baselist" ]; then
    cp "$busybox" "$root/bin/busybox"
    for applet in $("$busybox" --list-full); do
        [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
    done
fi
# in_base PATH: the systemd guest's root already has PATH (as itself or
# through the /lib -> usr/lib style links of a merged /usr)
in_base() {
    [ -n "$baselist" ] || return 1
    grep -qxF -e "$1" -e "/usr$1" "$baselist"
}

# Copy an executable and, if dynamically linked, every library ldd lists
# (at the path ldd gives, which is where the loader will look).
add_exe() {
    local src=$1 dst=$2 lib
    mkdir -p "$root$(dirname "$dst")"
    cp -L "$src" "$root$dst"
    chmod 755 "$root$dst"
    # "not a dynamic executable" -> nothing to add.
    { LC_ALL=C ldd "$src" 2>/dev/null || true; } | awk '
        $2 == "=>" && $3 ~ /^\// { print $3 }
        $1 ~ /^\// { print $1 }' | while read -r lib; do
        if [ ! -e "$root$lib" ] && ! in_base "$lib"; then
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        fi
    done
    if LC_ALL=C ldd "$src" 2>/dev/null | grep -q 'not found'; then
        echo "mkinitramfs: $src has unresolved libraries:" >&2
        LC_ALL=C ldd "$src" | grep 'not found' >&2
        return 1
    fi
}

if [ -n "$binary" ]; then
    add_exe "$binary" /usr/bin/cpushield
fi
for h in "${helpers[@]}"; do
    add_exe "$h" "/usr/bin/$(basename "$h")"
done
for f in "${files[@]}"; do
    src=${f%%:*} dst=${f#*:}
    mkdir -p "$root$(dirname "$dst")"
    cp -L "$src" "$root$dst"
done

moddir=/lib/modules
[ -z "$baselist" ] || moddir=/lib/modules/vm
if [ -n "$modules" ]; then
    mkdir -p "$root$moddir"
    cp "$modules"/*.ko "$modules/load.order" "$root$moddir/"
fi

cp "$here/scenarios/lib.sh" "$root/lib/vmlib.sh"
if [ -z "$baselist" ]; then
    cp "$here/init.sh" "$root/init"
    chmod 755 "$root/init"
else
    # merged /usr: the overlay's /lib, /bin and /sbin entries would replace
    # the root's symlinks, so everything goes below /usr
    mkdir -p "$root/usr/lib/vm" "$root/etc/systemd/system/sysinit.target.wants" \
        "$root/etc/systemd/system/multi-user.target.wants"
    mv "$root/lib/vmlib.sh" "$root/usr/lib/vmlib.sh"
    cp "$here/scenarios/sdlib.sh" "$root/usr/lib/sdlib.sh"
    [ ! -d "$root/lib/modules" ] || { mkdir -p "$root/usr/lib/modules"; mv "$root/lib/modules"/* "$root/usr/lib/modules/"; }
    for d in bin sbin lib; do
        [ ! -d "$root/$d" ] || { cp -a "$root/$d/." "$root/usr/$d/" 2>/dev/null || true; rm -rf "${root:?}/$d"; }
    done
    cp "$here"/systemd/*.sh "$root/usr/lib/vm/"
    chmod 755 "$root"/usr/lib/vm/*.sh
    for u in "$here"/systemd/*.service; do
        cp "$u" "$root/etc/systemd/system/"
    done
    ln -s ../vm-modules.service "$root/etc/systemd/system/sysinit.target.wants/vm-modules.service"
    [ ! -f "$here/systemd/zz-debug.service" ] || ln -s ../zz-debug.service "$root/etc/systemd/system/sysinit.target.wants/zz-debug.service"
    ln -s ../cpushield-test.service "$root/etc/systemd/system/multi-user.target.wants/cpushield-test.service"
fi
cp "$scenario" "$root/scenario.sh"
chmod 755 "$root/scenario.sh"

out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc --quiet -R 0:0) | gzip -1 > "$out_abs"
