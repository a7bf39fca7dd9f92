#!/bin/bash
# fetch-kernel.sh VERSION [CACHEDIR]
#
# Downloads Debian's packaged kernel VERSION (6.1 or 6.12) with apt-get,
# extracts vmlinuz and the modules the test guest needs (virtio-blk,
# virtio-net and their dependencies, decompressed), and caches the result:
#
#   CACHEDIR/<package>/vmlinuz
#   CACHEDIR/<package>/config
#   CACHEDIR/<package>/modules/*.ko
#   CACHEDIR/<package>/modules/load.order   (insmod order, dependencies first)
#   CACHEDIR/VERSION -> <package>            (symlink to the newest fetched)
#
# Prints the kernel directory (CACHEDIR/<package>) on stdout, logs on stderr.
# Idempotent; concurrent runs are serialised with flock. Works offline once
# cached: if apt cannot resolve the package, the cached VERSION is used.
#
# Exit: 0 ok, 1 error.
set -euo pipefail

usage() { echo "usage: $0 6.1|6.12 [CACHEDIR]" >&2; exit 1; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
version=$1
cache=${2:-${CPUSHIELD_VM_CACHE:-$HOME/.cache/cpushield-vm}}

case $version in
    6.1)  meta=linux-image-amd64 ;;
    6.12) meta=linux-image-6.12-amd64 ;;
    *) usage ;;
esac

# Modules the guest loads (their dependencies are added automatically).
# Built-in ones are skipped (6.12 has virtio and virtio_pci built in).
wanted_modules="virtio_pci virtio_blk virtio_net"

log() { echo "fetch-kernel: $*" >&2; }

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
exec 9>"$cache/.lock"
flock 9

# The real image package behind the meta package, e.g.
# linux-image-6.1.0-56-amd64 or linux-image-6.12.117+deb12-amd64.
resolve_pkg() {
    apt-cache depends "$meta" 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1
}

pkg=$(resolve_pkg || true)
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ] && [ ! -e "$cache/$version/.complete" ]; then
    log "apt-cache does not know $meta: running apt-get update"
    apt-get update -q >&2 || true
    pkg=$(resolve_pkg || true)
fi
if [ -z "$pkg" ]; then
    if [ -e "$cache/$version/.complete" ]; then
        log "cannot resolve $meta; using cached $(readlink "$cache/$version")"
        echo "$cache/$(readlink "$cache/$version")"
        exit 0
    fi
    log "cannot resolve the image package of $meta (apt-get update? network?)"
    exit 1
fi

kdir=$cache/$pkg
if [ -e "$kdir/.complete" ]; then
    ln -sfn "$pkg" "$cache/$version"
    echo "$kdir"
    exit 0
fi

work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "downloading $pkg (for $meta)"
download() { (cd "$work" && apt-get download -q "$pkg") >&2 2>&1; }
if ! download; then
    # The mirror may have moved on to a newer package than our lists know.
    if [ "$(id -u)" = 0 ]; then
        log "download failed: apt-get update and retry"
        apt-get update -q >&2 || true
        pkg=$(resolve_pkg)
        kdir=$cache/$pkg
        download
    else
        exit 1
    fi
fi

deb=$(ls "$work"/*.deb | head -n1)
log "extracting $(basename "$deb")"
dpkg-deb -x "$deb" "$work/root"
rm -f "$deb"

vmlinuz=$(ls "$work"/root/boot/vmlinuz-* | head -n1)
kver=${vmlinuz##*/vmlinuz-}
moddir=$work/root/lib/modules/$kver
[ -d "$moddir" ] || { log "no /lib/modules/$kver in $pkg"; exit 1; }

out=$work/out
mkdir -p "$out/modules"
cp "$vmlinuz" "$out/vmlinuz"
cp "$work/root/boot/config-$kver" "$out/config"
echo "$kver" > "$out/release"
echo "$pkg" > "$out/package"

# Find a module file by name (names use '_', files may use '-').
find_module() {
    local name=$1 alt=${1//_/-}
    find "$moddir/kernel" \( -name "$name.ko" -o -name "$name.ko.*" \
        -o -name "$alt.ko" -o -name "$alt.ko.*" \) -print -quit
}

is_builtin() {
    grep -q -E "/($1|${1//_/-})\.ko\$" "$moddir/modules.builtin"
}

# Decompress into $out/modules/NAME.ko and print its dependencies.
extract_module() {
    local name=$1 src dst
    src=$(find_module "$name")
    [ -n "$src" ] || { log "module $name not found in $pkg"; return 1; }
    dst=$out/modules/$name.ko
    case $src in
        *.ko) cp "$src" "$dst" ;;
        *.ko.xz) xz -dc "$src" > "$dst" ;;
        *.ko.zst) zstd -q -dc "$src" > "$dst" ;;
        *.ko.gz) gzip -dc "$src" > "$dst" ;;
        *) log "unknown module compression: $src"; return 1 ;;
    esac
    # The .modinfo section holds NUL-separated key=value strings.
    tr '\0' '\n' < "$dst" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
}

# Depth-first: dependencies are appended to load.order before the module.
declare -A seen=()
add_module() {
    local name=${1//-/_} deps d
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    if is_builtin "$name"; then
        log "  $name: built in"
        return 0
    fi
    deps=$(extract_module "$name")
    for d in $deps; do
        add_module "$d"
    done
    log "  $name.ko${deps:+ (needs: $deps)}"
    echo "$name" >> "$out/modules/load.order"
}
: > "$out/modules/load.order"
for m in $wanted_modules; do
    add_module "$m"
done

rm -rf "$work/root"
rm -rf "$kdir"
mv "$out" "$kdir"
touch "$kdir/.complete"
ln -sfn "$pkg" "$cache/$version"
log "cached $pkg ($kver) in $kdir"
echo "$kdir"
