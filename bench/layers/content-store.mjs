// Content store, image store and gc: lab vs skopeo/umoci on the same OCI layout.
/* global process, console */
//  1. copy a 4-layer image (~100 MB of gzip layers) from one OCI layout into a store:
//     lab = content.ingest (stream, verify size + digest, fsync + rename) of each blob + images.put;
//     skopeo = skopeo copy oci:SRC:img oci:DST:img (also verifies digests).
//  2. remove the image and collect its blobs:
//     lab = removeImage (index.json rewrite + gc); umoci = umoci rm + umoci gc.
// Run: pnpm --filter @lab/oci build && pnpm --filter @lab/layers build && node bench/layers/content-store.mjs
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import { commitImage, openImageStore, removeImage } from '../../packages/layers/dist/index.js';

/** Best of `runs` timings of `fn` (ms); `before` runs untimed before each. */
async function best(runs, before, fn) {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    await before();
    const t = process.hrtime.bigint();
    await fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return min;
}

function rmrf(p) {
  execFileSync('rm', ['-rf', p]);
}

const RUNS = Number(process.env.RUNS ?? 3);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bench-content-'));
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

try {
  // Source image: 4 gzip layers made by GNU tar from random (incompressible) files, committed with lab.
  const src = await openImageStore(path.join(tmp, 'src'));
  const layers = [];
  for (let l = 0; l < 4; l++) {
    const tree = path.join(tmp, `tree${l}`);
    fs.mkdirSync(tree);
    for (let f = 0; f < 50; f++) {
      fs.writeFileSync(path.join(tree, `f${f}`), randomBytes(500_000));
    }
    const tgz = execFileSync(
      'tar',
      ['-C', tree, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-czf', '-', '.'],
      {
        maxBuffer: 1 << 30,
      },
    );
    const { digest, size } = await src.content.ingest(tgz);
    layers.push({
      descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size },
      diffID: sha(gunzipSync(tgz)),
    });
    rmrf(tree);
  }
  await commitImage(src, { config: { architecture: 'amd64', os: 'linux' }, layers, name: 'img' });
  const resolved = await src.resolve('img');
  const total = resolved.size;
  console.log(
    `image: ${layers.length} gzip layers, ${(total / 1e6).toFixed(1)} MB of blobs; best of ${RUNS}`,
  );

  const dst = path.join(tmp, 'dst');
  const resetDst = () => {
    rmrf(dst);
  };
  const skopeoCopy = await best(RUNS, resetDst, () => {
    execFileSync('skopeo', ['copy', '-q', `oci:${src.root}:img`, `oci:${dst}:img`]);
  });
  const labCopy = await best(RUNS, resetDst, async () => {
    const images = await openImageStore(dst);
    const blobs = [resolved.manifestDescriptor, resolved.configDescriptor, ...resolved.layers];
    for (const d of blobs.reverse()) {
      await images.content.ingest(
        fs.createReadStream(src.content.path(d.digest), { highWaterMark: 1 << 20 }),
        {
          digest: d.digest,
          size: d.size,
        },
      );
    }
    await images.put('img', resolved.manifestDescriptor);
  });

  // Prepared store to remove from (copied by cp -a before each timed run).
  const prepared = path.join(tmp, 'prepared');
  execFileSync('skopeo', ['copy', '-q', `oci:${src.root}:img`, `oci:${prepared}:img`]);
  const resetFromPrepared = () => {
    rmrf(dst);
    execFileSync('cp', ['-a', prepared, dst]);
  };
  const umociRemove = await best(RUNS, resetFromPrepared, () => {
    execFileSync('umoci', ['rm', '--image', `${dst}:img`]);
    execFileSync('umoci', ['gc', '--layout', dst]);
    if (fs.readdirSync(path.join(dst, 'blobs', 'sha256')).length !== 0)
      throw new Error('umoci left blobs');
  });
  const labRemove = await best(RUNS, resetFromPrepared, async () => {
    const images = await openImageStore(dst);
    await removeImage(images, 'img');
    if (fs.readdirSync(path.join(dst, 'blobs', 'sha256')).length !== 0)
      throw new Error('lab left blobs');
  });

  const row = (label, lab, ref, refName) =>
    console.log(
      `${label.padEnd(28)} lab ${lab.toFixed(0).padStart(6)} ms   ${refName.padEnd(7)} ${ref.toFixed(0).padStart(6)} ms   ratio lab/${refName} ${(lab / ref).toFixed(2)}`,
    );
  row('copy image into a store', labCopy, skopeoCopy, 'skopeo');
  row('remove image + gc', labRemove, umociRemove, 'umoci');
} finally {
  rmrf(tmp);
}
