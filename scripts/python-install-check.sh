#!/usr/bin/env bash
# The package installs offline with pip (no index, no build isolation) and loads its bundled
# library: installed into a temporary folder, so the system's Python stays untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/python-package.sh >/dev/null
target=$(mktemp -d)
trap 'rm -rf "$target" bindings/python/build bindings/python/*.egg-info' EXIT
/usr/bin/python3 -m pip install --quiet --no-index --no-build-isolation --no-deps \
  --target "$target" ./bindings/python
cd "$target"
env -u VEXFS_LIBRARY PYTHONPATH="$target" /usr/bin/python3 - <<'PY'
import vexfs, os
assert vexfs.library_path.startswith(os.getcwd()), vexfs.library_path  # the bundled copy
c = vexfs.Collection(dim=2)
c.add([1, 2], [[0, 1], [1, 0]])
assert list(c.search([0, 1], k=1)[0]) == [1]
print("pip install ok:", vexfs.__version__, vexfs.library_path)
PY
