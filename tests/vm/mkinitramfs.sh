#!/bin/bash
# mkinitramfs.sh OUT.cpio.gz --scenario SCRIPT [--binary PATH] [--modules DIR]
#                [--helper PATH]... [--file SRC:DEST]...
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
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() {
    sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 1
}

[ $# -ge 1 ] || usage
out=$1; shift
binary='' scenario='' modules=''
helpers=() files=()
while [ $# -gt 0 ]; do
    case $1 in
        --binary) binary=$2; shift 2 ;;
        --scenario) scenario=$2; shift 2 ;;
        --modules) modules=$2; shift 2 ;;
        --helper) helpers+=("$2"); shift 2 ;;
        --file) files+=("$2"); shift 2 ;;
        *) usage ;;
    esac
done
[ -n "$scenario" ] || usage
[ -f "$scenario" ] || { echo "mkinitramfs: no scenario $scenario" >&2; exit 1; }

busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1; then
    echo "mkinitramfs: $busybox missing (apt-get install busybox-static)" >&2
    exit 1
fi
if LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then
    echo "mkinitramfs: $busybox is dynamically linked; install busybox-static" >&2
    exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc,lib/modules}

cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

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
        if [ ! -e "$root$lib" ]; then
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

if [ -n "$modules" ]; then
    cp "$modules"/*.ko "$modules/load.order" "$root/lib/modules/"
fi

cp "$here/scenarios/lib.sh" "$root/lib/vmlib.sh"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
cp "$scenario" "$root/scenario.sh"
chmod 755 "$root/scenario.sh"

out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc --quiet -R 0:0) | gzip -1 > "$out_abs"
