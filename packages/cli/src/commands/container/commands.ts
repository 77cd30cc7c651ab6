/** The `lab container …` commands with docker's grammar. */
import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from '@commander-js/extra-typings';
import type { Container, Containers } from '@lab/lifecycle';
import { labProviders, openContainers, psTable, readLogs, secureJoin } from '@lab/lifecycle';
import { invalidArgument, isLabError } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { ExitError } from '../../errors.js';
import { renderRows } from '../../output/format.js';
import { inspectImage } from '../image/inspect.js';
import { openStore } from '../image/store.js';
import { bytesSize } from '../../output/human-size.js';
import { startContainer } from './attach.js';
import type { CreateFlags } from './options.js';
import { addCreateFlags, collect, createOptions } from './options.js';
import { inspectContainer, psRow } from './status-text.js';

const run = promisify(execFile);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own argument/option types
type AnyCommand = Command<any, any, any>;
type Def = (
  parent: Command,
  name: string,
  ctx: CliContext,
  globals: () => GlobalOptions,
) => AnyCommand;

/** The containers of the root, with the default bridge network and local volumes. */
function open(globals: () => GlobalOptions): Containers {
  const { root } = globals();
  return openContainers({ root, providers: labProviders(root) });
}

/** Runs `fn` for each ref, printing `ok(ref)` or the error (docker's per-container reporting). */
async function each(
  ctx: CliContext,
  refs: readonly string[],
  fn: (ref: string) => Promise<string | undefined>,
): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      const out = await fn(ref);
      if (out !== undefined) ctx.stdout.write(`${out}\n`);
    } catch (err) {
      if (!isLabError(err)) throw err;
      ctx.stderr.write(`Error response from daemon: ${err.message}\n`);
      failed = true;
    }
  }
  if (failed) throw new ExitError(1);
}

export const defineCreate: Def = (parent, name, ctx, globals) =>
  addCreateFlags(
    parent
      .command(name)
      .description('create a new container')
      .argument('<image>', 'image')
      .argument('[command...]', 'command and arguments')
      .passThroughOptions(),
  ).action(async (image, command, raw) => {
    const o = raw as unknown as CreateFlags;
    const c = await open(globals).create(await createOptions(image, command, o, ctx.cwd, ctx.env));
    ctx.stdout.write(`${c.id}\n`);
  });

export const defineRun: Def = (parent, name, ctx, globals) =>
  addCreateFlags(
    parent
      .command(name)
      .description('create and run a new container from an image')
      .argument('<image>', 'image')
      .argument('[command...]', 'command and arguments')
      .option('-d, --detach', 'run container in background and print container ID')
      .passThroughOptions(),
  ).action(async (image, command, raw) => {
    const o = raw as unknown as CreateFlags & { detach?: boolean };
    const containers = open(globals);
    let c: Container;
    try {
      c = await containers.create(await createOptions(image, command, o, ctx.cwd, ctx.env));
    } catch (err) {
      if (!isLabError(err)) throw err;
      ctx.stderr.write(
        `lab: Error response from daemon: ${err.message.replace(/\.$/, '')}.\nSee 'lab run --help'.\n`,
      );
      throw new ExitError(125);
    }
    const r = await startContainer(containers, c.id, ctx, {
      attach: o.detach !== true,
      stdin: o.interactive === true,
      tty: o.tty === true,
    });
    if (r.error !== undefined) {
      ctx.stderr.write(
        `lab: Error response from daemon: failed to create task for container: ${r.error}\n`,
      );
      if (o.rm === true) await containers.remove(c.id, { force: true }).catch(() => undefined);
      throw new ExitError(r.exitCode ?? 125);
    }
    if (o.detach === true) {
      ctx.stdout.write(`${c.id}\n`);
      return;
    }
    if (r.exitCode !== undefined && r.exitCode !== 0) throw new ExitError(r.exitCode);
  });

export const defineStart: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('start one or more stopped containers')
    .argument('<container...>', 'containers')
    .option('-a, --attach', 'attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "attach container's STDIN")
    .action(async (refs, o) => {
      const containers = open(globals);
      if (o.attach === true) {
        const c = await containers.get(refs[0]!);
        const r = await startContainer(containers, c.id, ctx, {
          attach: true,
          stdin: o.interactive === true,
          tty: c.config.Config.Tty,
        });
        if (r.error !== undefined) {
          ctx.stderr.write(`Error response from daemon: ${r.error}\n`);
          throw new ExitError(1);
        }
        if (r.exitCode !== undefined && r.exitCode !== 0) throw new ExitError(r.exitCode);
        return;
      }
      await each(ctx, refs, async (ref) => {
        const r = await startContainer(containers, ref, ctx, {
          attach: false,
          stdin: false,
          tty: false,
        });
        if (r.error !== undefined)
          throw invalidArgument(`failed to start container "${ref}": ${r.error}`);
        return ref;
      });
    });

export const defineStop: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('stop one or more running containers')
    .argument('<container...>', 'containers')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container')
    .option('-s, --signal <signal>', 'signal to send to the container')
    .action(async (refs, o) => {
      const containers = open(globals);
      await each(ctx, refs, async (ref) => {
        await containers.stop(ref, {
          ...(o.time === undefined ? {} : { timeout: Number(o.time) }),
          ...(o.signal === undefined ? {} : { signal: o.signal }),
        });
        return ref;
      });
    });

export const defineRestart: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('restart one or more containers')
    .argument('<container...>', 'containers')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container')
    .action(async (refs, o) => {
      const containers = open(globals);
      await each(ctx, refs, async (ref) => {
        await containers.stop(ref, o.time === undefined ? {} : { timeout: Number(o.time) });
        const r = await startContainer(containers, ref, ctx, {
          attach: false,
          stdin: false,
          tty: false,
        });
        if (r.error !== undefined) throw invalidArgument(r.error);
        return ref;
      });
    });

export const defineKill: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('kill one or more running containers')
    .argument('<container...>', 'containers')
    .option('-s, --signal <signal>', 'signal to send to the container', 'KILL')
    .action(async (refs, o) => {
      const containers = open(globals);
      await each(ctx, refs, async (ref) => {
        await containers.kill(ref, o.signal);
        return ref;
      });
    });

export const definePause: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('pause all processes within one or more containers')
    .argument('<container...>', 'containers')
    .action(async (refs) => {
      const containers = open(globals);
      await each(ctx, refs, async (ref) => {
        await containers.pause(ref);
        return ref;
      });
    });

export const defineUnpause: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('unpause all processes within one or more containers')
    .argument('<container...>', 'containers')
    .action(async (refs) => {
      const containers = open(globals);
      await each(ctx, refs, async (ref) => {
        await containers.unpause(ref);
        return ref;
      });
    });

export const defineRemove: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('remove one or more containers')
    .argument('<container...>', 'containers')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'remove anonymous volumes associated with the container')
    .action(async (refs, o) => {
      const containers = open(globals);
      await each(ctx, refs, async (ref) => {
        await containers.remove(ref, { force: o.force === true, volumes: o.volumes === true });
        return ref;
      });
    });

export const defineWait: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('block until one or more containers stop, then print their exit codes')
    .argument('<container...>', 'containers')
    .action(async (refs) => {
      const containers = open(globals);
      await each(ctx, refs, async (ref) => String(await containers.wait(ref)));
    });

export const defineInspect: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('display detailed information on one or more containers')
    .argument('<container...>', 'containers')
    .option('-f, --format <template>', 'format the output using the given Go template')
    .option('-s, --size', 'display total file sizes (not computed by lab)')
    .action(async (refs, o) => {
      const containers = open(globals);
      const providers = labProviders(globals().root);
      const out: Record<string, unknown>[] = [];
      let failed = false;
      for (const ref of refs) {
        try {
          const c = await containers.get(ref);
          const networkSettings = await providers.network.settings(c.id);
          out.push(
            inspectContainer(c, {
              ...(networkSettings === undefined ? {} : { networkSettings }),
              volumeMounts: await providers.volumes.points(c),
            }),
          );
        } catch (err) {
          if (!isLabError(err)) throw err;
          // `lab inspect` (top level) inspects images too, as `docker inspect` does
          if (err.code === 'not-found' && parent.parent === null) {
            try {
              out.push(inspectImage(await (await openStore(globals)).resolve(ref)));
              continue;
            } catch (imageErr) {
              if (!isLabError(imageErr) || imageErr.code !== 'not-found') throw imageErr;
            }
          }
          ctx.stderr.write(`Error: ${err.message}\n`);
          failed = true;
        }
      }
      if (o.format !== undefined) {
        ctx.stdout.write(renderRows(o.format, out, { defaultTable: o.format, headers: {} }));
      } else {
        ctx.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
      }
      if (failed) throw new ExitError(1);
    });

const PS_HEADERS = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Status: 'STATUS',
  State: 'STATE',
  Ports: 'PORTS',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
};

function matchesFilter(c: Container, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) throw invalidArgument(`bad format of filter (expected name=value): ${filter}`);
  const key = filter.slice(0, eq);
  const value = filter.slice(eq + 1);
  switch (key) {
    case 'status':
      return c.state.Status === value;
    case 'name':
      return new RegExp(value).test(c.name);
    case 'id':
      return c.id.startsWith(value);
    case 'ancestor':
      return (
        c.config.ImageName === value ||
        c.config.ImageName === `${value}:latest` ||
        `${c.config.ImageName}:latest` === value ||
        c.config.Image === value ||
        c.config.Image.slice(7).startsWith(value)
      );
    case 'label': {
      const [k, v] = value.split('=', 2) as [string, string | undefined];
      const labels = c.config.Config.Labels;
      return k in labels && (v === undefined || labels[k] === v);
    }
    case 'exited':
      return c.state.Status === 'exited' && String(c.state.ExitCode) === value;
    default:
      throw invalidArgument(
        `invalid filter '${key}': use status, name, id, ancestor, label or exited`,
      );
  }
}

export const defineList = (
  parent: Command,
  name: string,
  aliases: readonly string[],
  ctx: CliContext,
  globals: () => GlobalOptions,
): AnyCommand => {
  const cmd = parent
    .command(name)
    .description('list containers')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('-q, --quiet', 'only display container IDs')
    .option('-l, --latest', 'show the latest created container (includes all states)')
    .option('-n, --last <n>', 'show n last created containers (includes all states)')
    .option('--no-trunc', "don't truncate output")
    .option('-f, --filter <filter>', 'filter output based on conditions provided', collect, [])
    .option('--format <format>', "'table', 'json', 'table TEMPLATE' or a template")
    .option('-s, --size', 'display total file sizes (not computed by lab)')
    .action(async (o) => {
      let list = await open(globals).list();
      const last = o.latest === true ? 1 : o.last === undefined ? -1 : Number(o.last);
      const all = o.all === true || last > 0 || o.filter.some((f) => f.startsWith('status='));
      if (!all)
        list = list.filter((c) => ['running', 'paused', 'restarting'].includes(c.state.Status));
      for (const f of o.filter) list = list.filter((c) => matchesFilter(c, f));
      list.reverse(); // newest first
      if (last > 0) list = list.slice(0, last);
      const noTrunc = !o.trunc;
      if (o.quiet === true) {
        for (const c of list) ctx.stdout.write(`${noTrunc ? c.id : c.id.slice(0, 12)}\n`);
        return;
      }
      const now = new Date();
      ctx.stdout.write(
        renderRows(
          o.format,
          list.map((c) => psRow(c, noTrunc, now)),
          {
            defaultTable:
              'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}',
            headers: PS_HEADERS,
          },
        ),
      );
    });
  for (const a of aliases) cmd.alias(a);
  return cmd;
};

function parseSince(value: string, now = Date.now()): number {
  if (/^[0-9]+(\.[0-9]+)?$/.test(value)) return Number(value) * 1000;
  const rel = /^([0-9]+)(ms|s|m|h)$/.exec(value);
  if (rel !== null) {
    const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[rel[2] as 'ms' | 's' | 'm' | 'h'];
    return now - Number(rel[1]) * mult;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw invalidArgument(
      `invalid value for "since": ${value}: use a timestamp or a duration like 10m`,
    );
  return t;
}

export const defineLogs: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('fetch the logs of a container')
    .argument('<container>', 'container')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since timestamp or relative (e.g. 42m)')
    .option('--until <time>', 'show logs before a timestamp or relative')
    .action(async (ref, o) => {
      const containers = open(globals);
      const c = await containers.get(ref);
      const tail = o.tail === 'all' ? undefined : Number(o.tail);
      for await (const e of readLogs(containers.logPath(c), {
        ...(tail === undefined || Number.isNaN(tail) ? {} : { tail }),
        ...(o.since === undefined ? {} : { since: parseSince(o.since) }),
        ...(o.until === undefined ? {} : { until: parseSince(o.until) }),
        follow: o.follow === true,
        done: async () => {
          try {
            const cur = await containers.get(c.id);
            return !['running', 'paused', 'restarting'].includes(cur.state.Status);
          } catch {
            return true;
          }
        },
      })) {
        const text = o.timestamps === true ? `${e.time} ${e.log}` : e.log;
        (e.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(text);
      }
    });

export const defineExec: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('execute a command in a running container')
    .argument('<container>', 'container')
    .argument('<command...>', 'command and arguments')
    .option('-i, --interactive', 'keep STDIN open even if not attached')
    .option('-t, --tty', "allocate a pseudo-TTY (shares lab's terminal)")
    .option('-d, --detach', 'detached mode: run command in the background')
    .option('-e, --env <env>', 'set environment variables', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user>', 'username or UID')
    .passThroughOptions()
    .action(async (ref, command, o) => {
      const containers = open(globals);
      const fd = (s: unknown) => {
        const v = (s as { fd?: unknown }).fd;
        return typeof v === 'number' ? v : undefined;
      };
      const direct = fd(ctx.stdout) !== undefined && fd(ctx.stderr) !== undefined;
      const stdinTarget = o.interactive === true ? (fd(ctx.stdin) ?? 'ignore') : 'ignore';
      // streams without an fd (lab embedded, tests): the output goes through temp files
      let spool: { dir: string; out: number; err: number } | undefined;
      if (!direct && o.detach !== true) {
        const dir = await mkdtemp(join(tmpdir(), 'lab-exec-'));
        spool = {
          dir,
          out: openSync(join(dir, 'out'), 'w+'),
          err: openSync(join(dir, 'err'), 'w+'),
        };
      }
      try {
        const proc = await containers.exec(ref, {
          cmd: command,
          env: o.env,
          ...(o.workdir === undefined ? {} : { workdir: o.workdir }),
          ...(o.user === undefined ? {} : { user: o.user }),
          stdio:
            o.detach === true
              ? ['ignore', 'ignore', 'ignore']
              : spool !== undefined
                ? ['ignore', spool.out, spool.err]
                : [stdinTarget, fd(ctx.stdout) ?? 1, fd(ctx.stderr) ?? 2],
        });
        if (o.detach === true) return;
        const status = await proc.wait();
        if (spool !== undefined) {
          ctx.stdout.write(await readFile(join(spool.dir, 'out')));
          ctx.stderr.write(await readFile(join(spool.dir, 'err')));
        }
        if (status.exitCode !== 0) throw new ExitError(status.exitCode < 0 ? 126 : status.exitCode);
      } finally {
        if (spool !== undefined) {
          closeSync(spool.out);
          closeSync(spool.err);
          await rm(spool.dir, { recursive: true, force: true });
        }
      }
    });

export const defineTop: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('display the running processes of a container')
    .argument('<container>', 'container')
    .argument('[ps-options...]', 'ps options (default -f)')
    .action(async (ref, psArgs) => {
      const containers = open(globals);
      const pids = await containers.pids(ref);
      ctx.stdout.write(await psTable(pids, psArgs.length > 0 ? psArgs : ['-f']));
    });

async function sampleCpu(pids: number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited
    }
  }
  return ticks;
}

async function rssOf(pids: number[]): Promise<number> {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+([0-9]+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
      if (m !== null) kb += Number(m[1]);
    } catch {
      // exited
    }
  }
  return kb * 1024;
}

export const defineStats: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('display a snapshot of containers resource usage statistics')
    .argument('[container...]', 'containers (default: all running)')
    .option(
      '--no-stream',
      'disable streaming stats and only pull the first result (lab always does)',
    )
    .option('--format <format>', 'table, json or a template')
    .option('-a, --all', 'show all containers')
    .action(async (refs, o) => {
      const containers = open(globals);
      const list =
        refs.length > 0
          ? await Promise.all(refs.map((r) => containers.get(r)))
          : (await containers.list()).filter((c) => o.all === true || c.state.Status === 'running');
      const rows: Record<string, string>[] = [];
      const pidsOf = new Map<string, number[]>();
      for (const c of list) pidsOf.set(c.id, await containers.pids(c.id).catch(() => []));
      const before = new Map<string, number>();
      for (const c of list) before.set(c.id, await sampleCpu(pidsOf.get(c.id) ?? []));
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 200));
      const secs = (Date.now() - t0) / 1000;
      for (const c of list) {
        const pids = pidsOf.get(c.id) ?? [];
        const cpu = ((await sampleCpu(pids)) - (before.get(c.id) ?? 0)) / 100 / secs;
        const mem = await rssOf(pids);
        const limit =
          c.config.HostConfig.Memory > 0
            ? c.config.HostConfig.Memory
            : (await import('node:os')).totalmem();
        rows.push({
          ID: c.id.slice(0, 12),
          Container: c.id.slice(0, 12),
          Name: c.name,
          CPUPerc: `${(cpu * 100).toFixed(2)}%`,
          MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
          MemPerc: `${((mem / limit) * 100).toFixed(2)}%`,
          NetIO: '0B / 0B',
          BlockIO: '0B / 0B',
          PIDs: String(pids.length),
        });
      }
      ctx.stdout.write(
        renderRows(o.format, rows, {
          defaultTable:
            'table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}',
          headers: {
            ID: 'CONTAINER ID',
            Container: 'CONTAINER',
            Name: 'NAME',
            CPUPerc: 'CPU %',
            MemUsage: 'MEM USAGE / LIMIT',
            MemPerc: 'MEM %',
            NetIO: 'NET I/O',
            BlockIO: 'BLOCK I/O',
            PIDs: 'PIDS',
          },
        }),
      );
    });

export const definePort: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('list port mappings or a specific mapping for the container')
    .argument('<container>', 'container')
    .argument('[port]', 'PRIVATE_PORT[/PROTO]')
    .action(async (ref, port) => {
      const c = await open(globals).get(ref);
      for (const [p, binds] of Object.entries(c.config.HostConfig.PortBindings)) {
        if (port !== undefined && p !== port && p !== `${port}/tcp`) continue;
        for (const b of binds) {
          const host = `${b.HostIp || '0.0.0.0'}:${b.HostPort}`;
          ctx.stdout.write(port === undefined ? `${p} -> ${host}\n` : `${host}\n`);
        }
      }
    });

export const defineCp: Def = (parent, name, _ctx, globals) =>
  parent
    .command(name)
    .description('copy files/folders between a container and the local filesystem')
    .argument('<src>', 'CONTAINER:SRC_PATH or a local path')
    .argument('<dest>', 'CONTAINER:DEST_PATH or a local path')
    .action(async (src, dest) => {
      const containers = open(globals);
      const split = (s: string) => {
        const m = /^([^/:][^:]*):(.*)$/.exec(s);
        return m === null ? undefined : { ref: m[1]!, path: m[2]! };
      };
      const from = split(src);
      const to = split(dest);
      if ((from === undefined) === (to === undefined)) {
        throw invalidArgument(
          'copying between containers or between local paths is not supported: one side must be CONTAINER:PATH',
        );
      }
      const side = (from ?? to)!;
      const c = await containers.get(side.ref);
      const rootfs = join(c.dir, 'rootfs');
      const { isMountPoint } = await import('@lab/layers');
      if (!(await isMountPoint(rootfs))) {
        throw invalidArgument(
          `container "${c.name}" has never been started: its filesystem is not mounted yet; start it first`,
        );
      }
      const inside = await secureJoin(rootfs, side.path);
      if (from !== undefined) await run('cp', ['-a', '--', inside, dest]);
      else await run('cp', ['-a', '--', src, inside]);
    });

export const definePrune: Def = (parent, name, ctx, globals) =>
  parent
    .command(name)
    .description('remove all stopped containers')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async () => {
      const removed = await open(globals).prune();
      ctx.stdout.write('Deleted Containers:\n');
      for (const id of removed) ctx.stdout.write(`${id}\n`);
      ctx.stdout.write('\nTotal reclaimed space: 0B\n');
    });
