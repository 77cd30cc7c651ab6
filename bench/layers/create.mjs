// Creating a layer from a directory: lab's createLayer vs GNU tar -cf / -czf, plus a busybox rootfs.
// Run: pnpm --filter @lab/layers build && node bench/layers/create.mjs
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLayer } from '../../packages/layers/dist/index.js';
import { bestOf, line, loadNote, makeTree, ratios, rmrf } from './common.mjs';

const RUNS = Number(process.env.RUNS ?? 3);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-create-'));
try {
  const tree = path.join(tmp, 'tree');
  fs.mkdirSync(tree);
  makeTree(tree);
  const out = path.join(tmp, 'layer.out');
  const reset = () => fs.rmSync(out, { force: true });
  const probe = path.join(tmp, 'probe.tar');
  execFileSync('tar', ['--format=pax', '-C', tree, '-cf', probe, '.']);
  const size = fs.statSync(probe).size;
  fs.rmSync(probe);
  console.log(`tree: ${(size / 1e6).toFixed(1)} MB as tar; best of ${RUNS}, interleaved`);

  const lab = (compression) => async () => {
    const r = await createLayer({ kind: 'trees', upper: tree }, fs.createWriteStream(out), {
      compression,
    });
    return r;
  };
  for (const [name, flags, compression] of [
    ['plain', ['-cf'], 'none'],
    ['gzip', ['-czf'], 'gzip'],
  ]) {
    const [tar, ours] = await bestOf(RUNS, reset, [
      () => execFileSync('tar', ['--format=pax', '-C', tree, ...flags, out, '.']),
      lab(compression),
    ]);
    console.log(line(`GNU tar ${flags.join(' ')} (${name})`, tar, size));
    console.log(line(`lab createLayer (${name})`, ours, size));
    console.log(ratios(name, tar, ours));
  }

  // busybox rootfs
  const bb = path.join(tmp, 'bb');
  fs.mkdirSync(path.join(bb, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(bb, 'bin/busybox'));
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).trim().split('\n');
  for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(bb, 'bin', a));
  const runs = RUNS * 5;
  const [tarBB, labBB] = await bestOf(runs, reset, [
    () => execFileSync('tar', ['--format=pax', '-C', bb, '-czf', out, '.']),
    async () => createLayer({ kind: 'trees', upper: bb }, fs.createWriteStream(out)),
  ]);
  const bbSize = fs.statSync('/bin/busybox').size;
  console.log(
    `busybox rootfs (gzip): ${(bbSize / 1e6).toFixed(1)} MB, ${applets.length} symlinks; best of ${runs}`,
  );
  console.log(line('GNU tar -czf (busybox)', tarBB, bbSize));
  console.log(line('lab createLayer (busybox)', labBB, bbSize));
  console.log(ratios('busybox', tarBB, labBB));
  console.log(loadNote());
} finally {
  rmrf(tmp);
}
