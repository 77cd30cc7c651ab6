// Applying a layer: lab's applyLayer vs GNU tar -x (plain and gzip), plus a busybox rootfs.
// Run: pnpm --filter @lab/layers build && node bench/layers/apply.mjs
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyLayer } from '../../packages/layers/dist/index.js';
import { bestOf, line, loadNote, makeTree, ratios, rmrf } from './common.mjs';

const RUNS = Number(process.env.RUNS ?? 3);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-apply-'));
try {
  const tree = path.join(tmp, 'tree');
  fs.mkdirSync(tree);
  makeTree(tree);
  const tarFile = path.join(tmp, 'layer.tar');
  const gzFile = path.join(tmp, 'layer.tar.gz');
  execFileSync('tar', ['--format=pax', '-C', tree, '-cf', tarFile, '.']);
  execFileSync('sh', ['-c', `gzip -6 -c ${tarFile} > ${gzFile}`]);
  const size = fs.statSync(tarFile).size;
  const entries =
    execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).split('\n').length - 1;
  const gzSize = fs.statSync(gzFile).size;
  console.log(
    `layer: ${(size / 1e6).toFixed(1)} MB uncompressed, ${entries} entries, gzip ${(gzSize / 1e6).toFixed(1)} MB; best of ${RUNS}, interleaved`,
  );

  // Every run extracts into a new directory; all are removed at the end. Deleting a tree right
  // before extracting makes ext4's inode allocator skip the "recently deleted" inodes, which
  // would penalise whichever side runs after a deletion.
  let out = '';
  let n = 0;
  const reset = () => {
    out = path.join(tmp, `out-${n++}`);
    fs.mkdirSync(out);
  };
  const cases = [
    ['plain', tarFile, ['-xf']],
    ['gzip', gzFile, ['-xzf']],
  ];
  for (const [name, file, flags] of cases) {
    const [tar, lab] = await bestOf(RUNS, reset, [
      () => execFileSync('tar', ['-C', out, ...flags, file]),
      () => applyLayer(file, out), // a blob path: read like tar reads it
    ]);
    console.log(line(`GNU tar ${flags.join(' ')} (${name})`, tar, size));
    console.log(line(`lab applyLayer (${name})`, lab, size));
    console.log(ratios(`${name} (goal >= 0.8x)`, tar, lab));
  }

  // busybox rootfs: /bin/busybox + applet symlinks (~2 MB)
  const bb = path.join(tmp, 'bb');
  fs.mkdirSync(path.join(bb, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(bb, 'bin/busybox'));
  fs.chmodSync(path.join(bb, 'bin/busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).trim().split('\n');
  for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(bb, 'bin', a));
  const bbTar = path.join(tmp, 'bb.tar');
  execFileSync('tar', ['--format=pax', '-C', bb, '-cf', bbTar, '.']);
  const bbSize = fs.statSync(bbTar).size;
  const runs = RUNS * 5;
  const [tarBB, labBB] = await bestOf(runs, reset, [
    () => execFileSync('tar', ['-C', out, '-xf', bbTar]),
    () => applyLayer(bbTar, out),
  ]);
  console.log(
    `busybox rootfs: ${(bbSize / 1e6).toFixed(1)} MB, ${applets.length} applet symlinks; best of ${runs}`,
  );
  console.log(line('GNU tar -xf (busybox)', tarBB, bbSize));
  console.log(line('lab applyLayer (busybox)', labBB, bbSize));
  console.log(ratios("busybox (tar's time includes its process start)", tarBB, labBB));
  console.log(loadNote());
} finally {
  rmrf(tmp);
}
