#!/usr/bin/env node
// Builds the addon with a plain compiler call (no node-gyp, nothing downloaded): libvexfs's
// static archive (built here with meson/ninja when missing, in ../../build or $VEXFS_BUILD_DIR)
// is linked in, so build/Release/vexfs.node stands alone. Node's headers: /usr/include/node, or
// $NODE_INCLUDE_DIR.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
const root = path.resolve(here, '..', '..');
const buildDir = process.env.VEXFS_BUILD_DIR || path.join(root, 'build');
const archive = path.join(buildDir, 'lib', 'libvexfs.a');
const nodeInclude = process.env.NODE_INCLUDE_DIR || '/usr/include/node';

function run(cmd, args) {
  console.log([cmd, ...args].join(' '));
  execFileSync(cmd, args, { stdio: 'inherit' });
}

if (!fs.existsSync(path.join(root, 'include', 'vexfs', 'vexfs.h'))) {
  console.error('build: the libvexfs sources are not at ' + root);
  process.exit(1);
}
if (!fs.existsSync(path.join(buildDir, 'build.ninja'))) run('meson', ['setup', buildDir, root]);
run('ninja', ['-C', buildDir, 'lib/libvexfs.a']);

const out = path.join(here, 'build', 'Release');
fs.mkdirSync(out, { recursive: true });
const sources = fs.readdirSync(path.join(here, 'src')).filter((f) => f.endsWith('.c'))
  .map((f) => path.join(here, 'src', f));
run(process.env.CC || 'cc', [
  '-O2', '-g', '-fPIC', '-shared', '-std=gnu11', '-Wall', '-Wextra', '-Werror',
  '-fvisibility=hidden', '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=vexfs',
  '-I' + nodeInclude, '-I' + path.join(root, 'include'),
  ...sources, archive, '-Wl,--exclude-libs,ALL', '-lzstd', '-lpthread', '-lm', // zstd: snapshots
  '-o', path.join(out, 'vexfs.node'),
]);
