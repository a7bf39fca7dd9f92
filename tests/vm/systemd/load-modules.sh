#!/bin/sh
# Loads /lib/modules/vm/*.ko in the order of load.order (dependencies first).
[ -f /lib/modules/vm/load.order ] || exit 0
while read -r m; do
    insmod "/lib/modules/vm/$m.ko" || echo "vm-modules: insmod $m failed" >&2
done < /lib/modules/vm/load.order
