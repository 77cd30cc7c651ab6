// Shared by the layer benchmarks: a deterministic ~100 MB tree and a timing helper.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Files of mixed sizes (many small, some medium) in nested dirs, plus one big file. */
export function makeTree(root, { files = 4000, bigFile = 24 << 20 } = {}) {
  let seed = 0x2545f491;
  const rand = () => {
    // xorshift32
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  // bytes from a 16-symbol alphabet: gzip gets about 2:1, like typical binaries
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = 0x40 + Math.floor(rand() * 16);
  let total = 0;
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `d${i % 40}`, `s${i % 7}`);
    fs.mkdirSync(dir, { recursive: true });
    const r = rand();
    // 70% small (<8 KiB), 25% medium (8–64 KiB), 5% large (64–256 KiB)
    const size =
      r < 0.7
        ? Math.floor(rand() * 8192)
        : r < 0.95
          ? 8192 + Math.floor(rand() * 57344)
          : 65536 + Math.floor(rand() * 196608);
    const off = Math.floor(rand() * (chunk.length - size));
    fs.writeFileSync(path.join(dir, `f${i}.bin`), chunk.subarray(off, off + size));
    total += size;
    if (i % 50 === 0) fs.symlinkSync(`f${i}.bin`, path.join(dir, `l${i}`));
  }
  const big = fs.openSync(path.join(root, 'big.bin'), 'w');
  for (let left = bigFile; left > 0; left -= chunk.length)
    fs.writeSync(big, chunk, 0, Math.min(left, chunk.length));
  fs.closeSync(big);
  total += bigFile;
  return total;
}

/** CPU ms used so far by this process (all threads) plus its waited-for children (tar, openssl…). */
export function cpuMs() {
  const self = process.cpuUsage();
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]); // cutime + cstime, in 1/100 s
  return (self.user + self.system) / 1000 + ticks * 10;
}

/**
 * Runs each of `fns` `runs` times, interleaved (a, b, a, b…) so all see the same machine load,
 * with `before` (untimed, followed by sync) ahead of every run. Returns, for each, the best wall
 * time and the best CPU time (user + system, children included), in ms.
 */
export async function bestOf(runs, before, fns) {
  const wall = fns.map(() => Infinity);
  const cpu = fns.map(() => Infinity);
  for (let i = 0; i < runs; i++) {
    for (const [k, fn] of fns.entries()) {
      await before();
      execFileSync('sync');
      const c = cpuMs();
      const t = process.hrtime.bigint();
      await fn();
      wall[k] = Math.min(wall[k], Number(process.hrtime.bigint() - t) / 1e6);
      cpu[k] = Math.min(cpu[k], cpuMs() - c);
    }
  }
  return fns.map((_, k) => ({ wall: wall[k], cpu: cpu[k] }));
}

export function loadNote() {
  return `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`;
}

export function rmrf(p) {
  // rm -rf is much faster than fs.rmSync on big trees and is not what we measure
  execFileSync('rm', ['-rf', p]);
}

export function line(label, t, bytes) {
  const mbs = bytes / 1e6 / (t.wall / 1000);
  return `${label.padEnd(30)} wall ${t.wall.toFixed(0).padStart(6)} ms ${mbs.toFixed(0).padStart(5)} MB/s   cpu ${t.cpu.toFixed(0).padStart(6)} ms`;
}

export function ratios(label, ref, lab) {
  return `  ${label}: throughput ratio lab/ref ${(ref.wall / lab.wall).toFixed(2)}x (wall), ${(ref.cpu / lab.cpu).toFixed(2)}x (cpu)`;
}
