#!/bin/sh
# Build the mod_cluster httpd modules from /opt/mod_cluster/native, the way the tree supports, install them
# into apache2's module folder and write /opt/mod_cluster/capabilities.txt (what the harness renders from).
#
# Build method, chosen from the tree:
#   cmake      native/CMakeLists.txt exists (mod_cluster 1.3.7.Final and later, every mod_proxy_cluster 2.x):
#              one CMake project, modules in build/modules/.
#   autotools  no CMakeLists.txt (mod_cluster 1.3.0.Final .. 1.3.6.Final): every module folder with a
#              configure.in is built on its own: ./buildconf; ./configure --with-apxs=/usr/bin/apxs; make.
# Then the built modules are loaded into apache2 (`apache2 -L` with a configuration that loads them) and the
# directives they register are listed: a module that does not load fails the build here, with the loader's
# message. capabilities.txt lines: `build-method M`, `httpd VERSION`, `module FILE.so`,
# `directive SOURCE.c NAME` (only directives the mod_cluster modules add to the base modules'),
# `needs NAME MODULE.so` (a directive httpd refuses unless that module is loaded too).
# MC_TOP, MC_MODULES and APXS override the folders and apxs (the unit tier runs this with fake tools).
set -eu
top=${MC_TOP:-/opt/mod_cluster}
native=$top/native
modules=${MC_MODULES:-/usr/lib/apache2/modules}
apxs=${APXS:-/usr/bin/apxs}
log=$top/build.log
: > "$log"

fail() {  # what failed, then the compiler's error lines and the log tail
    echo "mod_cluster build failed ($method): $1" >&2
    errors=$(grep -E '(error|Error)[: ]|undefined reference|No such file' "$log" | head -n 25 || true)
    [ -n "$errors" ] && printf -- '--- compiler errors ---\n%s\n' "$errors" >&2
    printf -- '--- build log tail ---\n' >&2
    tail -n 30 "$log" >&2
    exit 1
}

if [ -f "$native/CMakeLists.txt" ]; then
    method=cmake
    cmake -S "$native" -B "$top/build" -DCMAKE_BUILD_TYPE=Release >> "$log" 2>&1 || fail "cmake configure"
    make -C "$top/build" -j"$(nproc)" >> "$log" 2>&1 || fail "make in build/"
    built=$(ls "$top"/build/modules/*.so 2>/dev/null || true)
else
    method=autotools
    folders=$(for f in "$native"/*/configure.in "$native"/*/configure.ac; do [ -f "$f" ] && dirname "$f"; done | sort -u)
    [ -n "$folders" ] || fail "no native/CMakeLists.txt and no native/*/configure.in: nothing to build"
    for folder in $folders; do
        name=${folder#"$native"/}
        echo "=== $name" >> "$log"
        (cd "$folder" && sh ./buildconf && ./configure --with-apxs="$apxs" && make) >> "$log" 2>&1 \
            || fail "native/$name (./buildconf; ./configure --with-apxs=$apxs; make)"
    done
    built=$(for folder in $folders; do ls "$folder"/*.so 2>/dev/null || true; done)
fi
[ -n "$built" ] || fail "the build produced no .so module"
for so in $built; do cp "$so" "$modules/"; done
echo "mod_cluster modules built with $method: $(for so in $built; do basename "$so"; done | tr '\n' ' ')"

# --- what the built modules register ----------------------------------------------------------------------
probe=$top/probe
mkdir -p "$probe/logs"
names=$(for so in $built; do basename "$so" .so; done)
has() { echo "$names" | grep -qx "$1"; }
extras=$(echo "$names" | grep -vxE 'mod_(cluster_slotmem|manager|proxy_cluster|lbmethod_cluster|advertise)' || true)
conf() {  # $1: file, then the mod_cluster modules (mod_x) to load after the base modules, in order
    file=$1
    shift
    {
        echo "ServerRoot $probe"
        echo "ServerName probe"
        echo "ErrorLog $probe/logs/error_log"
        echo "DefaultRuntimeDir $probe"
        for m in mpm_event proxy proxy_http proxy_ajp proxy_balancer; do
            echo "LoadModule ${m}_module $modules/mod_$m.so"
        done
        has mod_cluster_slotmem || echo "LoadModule slotmem_shm_module $modules/mod_slotmem_shm.so"
        for m in "$@"; do echo "LoadModule ${m#mod_}_module $modules/$m.so"; done
    } > "$file"
}
directives() {  # $1: configuration; prints `SOURCE.c NAME` per directive of the loaded modules
    apache2 -f "$1" -L > "$probe/L.txt" 2>&1 || {
        echo "mod_cluster build ($method): the built modules do not load into $(apache2 -v | head -n 1):" >&2
        cat "$probe/L.txt" >&2
        printf -- '--- configuration ---\n' >&2
        cat "$1" >&2
        exit 1
    }
    sed -n 's/^\([A-Za-z<][A-Za-z0-9_]*\) (\([A-Za-z0-9_.]*\))$/\2 \1/p' "$probe/L.txt"
}
conf "$probe/base.conf"
directives "$probe/base.conf" | sort -u > "$probe/base.txt"
: > "$probe/ours.txt"
# mod_proxy_cluster and mod_lbmethod_cluster are alternatives: each is listed with the others, never together.
for alternative in mod_proxy_cluster mod_lbmethod_cluster; do
    has "$alternative" || continue
    set --
    for m in mod_cluster_slotmem mod_manager "$alternative" mod_advertise $extras; do
        has "$m" && set -- "$@" "$m"
    done
    conf "$probe/$alternative.conf" "$@"
    directives "$probe/$alternative.conf" >> "$probe/ours.txt"
done
# Directives that need another httpd module loaded (EnableWsTunnel and WSUpgradeHeader need mod_proxy_wstunnel
# in 1.3 and in 2.x before 2023-11-01): `apache2 -t` with the directive, and nothing else added, names it.
: > "$probe/needs.txt"
for line in "EnableWsTunnel" "WSUpgradeHeader websocket"; do
    directive=${line%% *}
    grep -q " $directive\$" "$probe/ours.txt" || continue
    for with in "$probe/mod_proxy_cluster.conf" "$probe/mod_lbmethod_cluster.conf"; do [ -f "$with" ] && break; done
    { cat "$with"; echo "$line"; } > "$probe/need.conf"
    if ! apache2 -f "$probe/need.conf" -t > "$probe/t.txt" 2>&1; then
        needed=$(grep -o 'requires mod_[a-z0-9_]*\.c' "$probe/t.txt" | head -n 1 | sed 's/^requires //; s/\.c$/.so/')
        [ -z "$needed" ] || echo "needs $directive $needed" >> "$probe/needs.txt"
    fi
done
{
    echo "build-method $method"
    echo "httpd $(apache2 -v | sed -n 's/^Server version: //p')"
    for name in $names; do echo "module $name.so"; done
    sort -u "$probe/ours.txt" | comm -23 - "$probe/base.txt" | sed 's/^/directive /'
    cat "$probe/needs.txt"
} > "$top/capabilities.txt"
rm -rf "$probe"
cat "$top/capabilities.txt"
