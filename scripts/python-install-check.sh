#!/usr/bin/env bash
# The package installs offline with plain `pip install ./bindings/python` (build isolation on: the
# in-tree backend needs nothing from an index; it builds libvexfs and bundles it) and then loads
# its bundled library. Checked the way the README says: Debian's python3 (externally managed,
# PEP 668) into a virtual environment that sees Debian's numpy, and the python3 first on PATH,
# when that is another interpreter, into a temporary folder. The build folder is made out of date
# first (its meson state newer than build.ninja), as after a pull: ninja then runs meson again from
# inside pip's isolated environment, which must not see pip's PYTHONPATH.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${VEXFS_BUILD_DIR:-build}/meson-private/coredata.dat
[ ! -f "$state" ] || touch "$state"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pip_install() { # python, pip options...
  local python=$1; shift
  "$python" -m pip install --quiet --root-user-action=ignore --no-index "$@" ./bindings/python
}
check() { # python, folder holding the installed package
  (cd "$tmp" && env -u VEXFS_LIBRARY "$1" - "$2" <<'PY'
import os, sys, vexfs
assert vexfs.library_path == os.path.join(sys.argv[1], "vexfs", "libvexfs.so.1"), vexfs.library_path
c = vexfs.Collection(dim=2)
c.add([1, 2], [[0, 1], [1, 0]])
assert list(c.search([0, 1], k=1)[0]) == [1]
# vexfs.distributed is in the wheel, whole (importing it needs Dask, which this python may lack)
assert os.path.isfile(os.path.join(sys.argv[1], "vexfs", "distributed", "sharded.py"))
print("pip install ok:", sys.executable, vexfs.__version__, vexfs.library_path)
PY
  )
}

/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
pip_install "$tmp/venv/bin/python"
check "$tmp/venv/bin/python" "$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

on_path=$(command -v python3 || true)
if [ -n "$on_path" ] && [ "$(readlink -f "$on_path")" != "$(readlink -f /usr/bin/python3)" ]; then
  pip_install "$on_path" --target "$tmp/target"
  PYTHONPATH="$tmp/target" check "$on_path" "$tmp/target"
fi
