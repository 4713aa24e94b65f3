#!/usr/bin/env bash
# Installs into a DESTDIR, then builds and runs a program against it through pkg-config alone, and
# runs the installed vexfs-server and vexctl on the installed library; vexctl's man page and bash
# completion are where man and bash-completion look.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
pc=$(dirname "$(find "$dest" -name vexfs.pc | head -1)")
export PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$dest
flags=$(pkg-config --cflags --libs vexfs)
echo "pkg-config --cflags --libs vexfs: $flags"
# shellcheck disable=SC2086  # flags are words
cc -std=c99 -o "$dest/quickstart" examples/quickstart.c $flags
libdir=$(dirname "$pc")
LD_LIBRARY_PATH=$libdir "$dest/quickstart" 2000 16 | tail -1
# Output is captured before it is matched: under pipefail, `ldd | grep -q` fails whenever grep exits
# on its match while ldd is still writing (SIGPIPE), which a loaded machine makes common.
links_installed_library() { # binary
  local deps
  deps=$(LD_LIBRARY_PATH=$libdir ldd "$1")
  grep -q "libvexfs.so.1 => $libdir/libvexfs.so.1" <<<"$deps"
}
test -f "$libdir/libvexfs.a"
test -L "$libdir/libvexfs.so.1"
test -n "$(find "$dest" -path "*/include/vexfs/vexfs.h")"
# vexfs-server is installed and runs on the installed libvexfs.so.1
server=$(find "$dest" -type f -name vexfs-server | head -1)
test -n "$server"
links_installed_library "$server"
usage=$(LD_LIBRARY_PATH=$libdir "$server" --help)
echo "${usage%%$'\n'*}"
vexctl=$(find "$dest" -type f -name vexctl -path "*/bin/*" | head -1)
test -n "$vexctl"
links_installed_library "$vexctl"
LD_LIBRARY_PATH=$libdir "$vexctl" version
test -n "$(find "$dest" -path "*/share/man/man1/vexctl.1")"
test -n "$(find "$dest" -path "*/share/bash-completion/completions/vexctl")"
echo "install ok"
