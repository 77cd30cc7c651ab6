/* global process, console */
// Unpacking an image into snapshots, and mounting a snapshot: lab (packages/layers/dist)
// side by side with umoci and plain mount(8) in the same run. Needs root.
// Build first: pnpm --filter @lab/oci build && pnpm --filter @lab/layers build
//
//   node bench/layers/snapshots.mjs [runs]   (default 3)
//
// The image: 4 layers, ~75 MB, ~5000 files (host files from /usr/share/perl, zoneinfo and
// /usr/lib/python3), with whiteouts and an opaque directory in the upper layers, made with
// GNU tar and added to an OCI layout with `umoci raw add-layer`.
//   umoci        umoci raw unpack --image <layout>:bench <rootfs>   (all layers, whiteouts applied)
//   lab native   unpackImageLayers(native)   (one full tree per ChainID: copy + apply per layer)
//   lab overlay  unpackImageLayers(overlay)  (one layer dir per ChainID, overlay whiteouts)
// Mount: lab prepare + mountAll + unmount + remove of an active snapshot on the 4-layer stack,
// vs mount -t overlay + umount of the same dirs from a shell loop.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const dist = path.join(repoRoot, 'packages/layers/dist/index.js');
if (!existsSync(dist)) {
  console.error(`${dist} is missing: run pnpm --filter @lab/layers build first`);
  process.exit(1);
}
if (process.getuid() !== 0) {
  console.error('this benchmark mounts overlayfs: run it as root');
  process.exit(1);
}
const lab = await import(dist);
const runs = Number(process.argv[2] ?? 3);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lab-bench-snapshots-'));
const sh = (cmd) => execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

try {
  // --- the image -----------------------------------------------------------------------
  const src = path.join(tmp, 'src');
  const l = (i) => path.join(src, `l${i}`);
  for (let i = 0; i < 4; i++) mkdirSync(l(i), { recursive: true });
  sh(`mkdir -p ${l(0)}/usr/share && cp -a /usr/share/perl /usr/share/zoneinfo ${l(0)}/usr/share/`);
  sh(`mkdir -p ${l(1)}/usr/lib && cp -a /usr/lib/python3 ${l(1)}/usr/lib/`);
  sh(
    `mkdir -p ${l(2)}/usr/share/zoneinfo ${l(2)}/usr/share/perl && : > ${l(2)}/usr/share/zoneinfo/.wh.America` +
      ` && : > ${l(2)}/usr/share/perl/.wh..wh..opq && echo fresh > ${l(2)}/usr/share/perl/fresh`,
  );
  sh(
    `mkdir -p ${l(3)}/usr/lib/python3 ${l(3)}/etc && : > ${l(3)}/usr/lib/python3/.wh.dist-packages` +
      ` && echo conf > ${l(3)}/etc/conf`,
  );
  const layout = path.join(tmp, 'oci');
  sh(`umoci init --layout ${layout} && umoci new --image ${layout}:bench`);
  const tars = [];
  for (let i = 0; i < 4; i++) {
    const file = path.join(tmp, `layer-${i}.tar`);
    sh(`tar --numeric-owner --sort=name -C ${l(i)} -cf ${file} .`);
    sh(`umoci raw add-layer --image ${layout}:bench ${file}`);
    const diffID = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
    tars.push({ file, diffID });
  }
  const bytes = tars.reduce((n, t) => n + readFileSync(t.file).length, 0);
  const files = Number(sh(`find ${src} | wc -l`).toString().trim());
  const layers = tars.map((t, i) => ({
    chainID: lab.chainID(tars.slice(0, i + 1).map((x) => x.diffID)),
    diffID: t.diffID,
    open: () => createReadStream(t.file),
  }));
  console.log(
    `image: ${tars.length} layers, ${(bytes / 1e6).toFixed(1)} MB of tar, ${files} paths; ${runs} runs each, median`,
  );

  // --- unpack --------------------------------------------------------------------------
  sh('sync');
  const umoci = [];
  const native = [];
  const overlay = [];
  for (let r = 0; r < runs; r++) {
    const rootfs = path.join(tmp, `umoci-${r}`);
    umoci.push(
      await time(() => sh(`umoci --log=error raw unpack --image ${layout}:bench ${rootfs}`)),
    );
    for (const [kind, out] of [
      ['native', native],
      ['overlay', overlay],
    ]) {
      const root = path.join(tmp, `lab-${kind}-${r}`);
      const sn = await lab.openSnapshotter(kind, root);
      out.push(await time(() => lab.unpackImageLayers(sn, layers)));
    }
    rmSync(rootfs, { recursive: true, force: true });
  }
  const u = median(umoci);
  console.log(`unpack  umoci raw unpack      ${u.toFixed(0).padStart(7)} ms`);
  for (const [name, values] of [
    ['lab native ', native],
    ['lab overlay', overlay],
  ]) {
    const m = median(values);
    console.log(
      `unpack  ${name}             ${m.toFixed(0).padStart(7)} ms   lab/umoci ${(m / u).toFixed(2)}`,
    );
  }

  // --- mount ---------------------------------------------------------------------------
  const sn = await lab.openSnapshotter('overlay', path.join(tmp, 'lab-overlay-0'));
  const top = layers[layers.length - 1].chainID;
  const target = path.join(tmp, 'mnt');
  mkdirSync(target);
  const rounds = 50;
  const labMount = await time(async () => {
    for (let i = 0; i < rounds; i++) {
      const mounts = await sn.prepare(`bench-${i}`, top);
      await lab.mountAll(mounts, target);
      await lab.unmount(target);
      await sn.remove(`bench-${i}`);
    }
  });
  const mounts = await sn.prepare('bench-mount', top);
  const labMountOnly = await time(async () => {
    for (let i = 0; i < rounds; i++) {
      await lab.mountAll(mounts, target);
      await lab.unmount(target);
    }
  });
  await sn.remove('bench-mount');
  const lower = (await sn.layerStack(top)).reverse().join(':');
  const up = path.join(tmp, 'up');
  const work = path.join(tmp, 'work');
  mkdirSync(up);
  mkdirSync(work);
  writeFileSync(
    path.join(tmp, 'loop.sh'),
    `for i in $(seq ${rounds}); do mount -t overlay overlay -o index=off,lowerdir=${lower},upperdir=${up},workdir=${work} ${target} && umount ${target}; done\n`,
  );
  const shellMount = await time(() => sh(`sh ${path.join(tmp, 'loop.sh')}`));
  console.log(
    `mount   shell mount+umount      ${(shellMount / rounds).toFixed(1).padStart(7)} ms/op`,
  );
  console.log(
    `mount   lab mountAll+unmount        ${(labMountOnly / rounds).toFixed(1).padStart(7)} ms/op   lab/shell ${(labMountOnly / shellMount).toFixed(2)}`,
  );
  console.log(
    `mount   lab prepare+mount+umount+remove ${(labMount / rounds).toFixed(1).padStart(5)} ms/op   lab/shell ${(labMount / shellMount).toFixed(2)}`,
  );

  // --- inspect without mounting --------------------------------------------------------
  const stack = await sn.layerStack(top);
  const unionTimes = [];
  const findTimes = [];
  let count = 0;
  let found = 0;
  for (let r = 0; r < runs; r++) {
    unionTimes.push(
      await time(async () => {
        const view = await lab.openUnionView(stack, { format: 'overlay' });
        count = 0;
        for await (const entry of view.walk()) count += entry.size >= 0 ? 1 : 0;
      }),
    );
    findTimes.push(
      await time(() => {
        const out = sh(
          `mount -t overlay overlay -o ro,index=off,lowerdir=${lower} ${target} && find ${target} -printf '%y %m %s\\n' | wc -l; umount ${target}`,
        );
        found = Number(out.toString().trim());
      }),
    );
  }
  const uw = median(unionTimes);
  const fw = median(findTimes);
  console.log(`inspect mount+find+umount     ${fw.toFixed(0).padStart(7)} ms (${found} entries)`);
  console.log(
    `inspect lab union view walk   ${uw.toFixed(0).padStart(7)} ms (${count} entries)   lab/find ${(uw / fw).toFixed(2)}`,
  );
} finally {
  sh(`grep -o ' ${tmp}/[^ ]*' /proc/self/mountinfo | xargs -r -n1 umount || true`);
  rmSync(tmp, { recursive: true, force: true });
}
