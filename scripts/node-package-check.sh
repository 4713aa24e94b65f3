#!/usr/bin/env bash
# Checks that the Node package packs and installs offline: `npm pack` of bindings/node (with the
# addon built by `npm run build`), `npm install` of that tarball into an empty project, and a
# search through require('vexfs') there.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball=$(cd bindings/node && npm pack --silent --pack-destination "$tmp")
mkdir "$tmp/app"
cd "$tmp/app"
npm init -y >/dev/null
npm install --offline --no-audit --no-fund --silent "$tmp/$tarball"
node -e '
const vexfs = require("vexfs");
const c = new vexfs.Collection({ dim: 3 });
c.add([7n], new Float32Array([1, 2, 3]), [{ ok: true }]);
const r = c.search(new Float32Array([1, 2, 3]), 1);
if (r.ids[0] !== 7n || !c.getPayload(7).ok) process.exit(1);
const db = new vexfs.Database();
db.createCollection("d", { dim: 2 }).add([1n], new Float32Array([1, 1]));
if (db.getCollection("d").count() !== 1) process.exit(1);
db.close();
console.log("node package: installed from", process.argv[1], "version", vexfs.version, vexfs.simdIsa());
' "$tarball"
