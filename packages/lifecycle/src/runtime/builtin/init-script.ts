/**
 * The container init of the builtin runtime, as a busybox `sh` script.
 *
 * Node cannot fork, clone, unshare or pivot_root, so the builtin runtime orchestrates
 * processes instead. `create` spawns this chain (each step execs the next; only the keeper
 * and `unshare --fork` stay as parents):
 *
 *     busybox sh (keeper: waits, writes the exit file)
 *      └ prlimit --<rlimits>                     (util-linux; rlimits for everything below)
 *        nsenter --net=… (only to join namespaces by path)
 *        unshare --time (util-linux, only for a new time namespace)
 *        busybox unshare -f -p -m -u -i [-n] --propagation private
 *         └ busybox sh: joins the container's cgroups (echo 0 > cgroup.procs), then
 *           unshare --cgroup (util-linux, only for a new cgroup namespace)
 *           setpriv --inh-caps … --regid G --groups …   (util-linux; see capabilities.ts)
 *           setpriv --bounding-set <spec set>
 *           busybox sh -c <this script>          = PID 1 of the container
 *
 * The script mounts the rootfs (rbind), the spec's mounts, device nodes, masked and read-only
 * paths, sets the hostname, brings `lo` up, then `pivot_root . .` + `umount -l .` — after
 * which the host's (dynamically linked) tools are gone. It reports `ready <host pid>` on fd 3
 * and blocks reading the exec FIFO (crun's create/start split). `start` writes a line to the
 * FIFO; the script then execs, through busybox applets reached via /proc/self/exe (the
 * static busybox binary stays mapped after pivot_root; Debian's busybox-static runs applets
 * that way): `setpriv --inh-caps -… [--nnp]` → `nsenter -F -S <uid> -w<cwd>` →
 * `env -i <env>` → the program (an absolute path resolved in the rootfs beforehand, so no
 * busybox applet can shadow the image's own binaries).
 *
 * Needs: util-linux (unshare, setpriv, prlimit, nsenter), a static busybox, and the kernel.
 */
import { quote } from './shell.js';

/** One mount step, with targets already resolved to host paths inside the rootfs. */
export type MountStep =
  | { kind: 'fs'; type: string; source: string; target: string; options: string[] }
  | {
      kind: 'bind';
      source: string;
      target: string;
      file: boolean;
      recursive: boolean;
      readonly: boolean;
      propagation?: string;
    }
  | { kind: 'cgroup-v1'; target: string; binds: { controller: string; source: string }[] }
  | { kind: 'device'; target: string; type: string; major: number; minor: number; mode: number }
  | { kind: 'symlink'; target: string; link: string }
  /** Masked: a directory gets an empty read-only tmpfs, a file /dev/null. */
  | { kind: 'mask'; target: string; directory: boolean }
  | { kind: 'readonly'; target: string }
  | { kind: 'sysctl'; file: string; value: string }
  /** The terminal (this process's stdin, a pty slave) bound at /dev/console, sized. */
  | { kind: 'console'; target: string; rows?: number; cols?: number };

/** Everything the init script needs, computed by the runtime. */
export interface InitPlan {
  /** Host path of the rootfs. */
  rootfs: string;
  /** The exec FIFO (created by the script). */
  fifo: string;
  /** util-linux mount (runs every batch of mounts as one `mount -a -T <fstab>`). */
  mount: string;
  /** Where the fstab batch files go (the container directory); `<dir>/fstab.<n>`. */
  fstabDir: string;
  steps: MountStep[];
  hostname?: string;
  /** Bring `lo` up (a new network namespace). */
  loopback: boolean;
  readonlyRoot: boolean;
  /** The working directory inside the container. */
  cwd: string;
  /** The final exec: busybox setpriv arguments, uid, env, absolute program, args. */
  finalSetpriv: string[];
  uid: number;
  env: string[];
  program: string;
  args: string[];
}

/** The script and the fstab files it reads (write them before running it). */
export interface InitProgram {
  script: string;
  files: { path: string; content: string }[];
}

/** fstab field escaping (libmount unmangles \040 etc.). */
function fstabField(value: string): string {
  return value.replace(/[\\ \t\n#]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

function fstabLine(source: string, target: string, type: string, options: string[]): string {
  const opts = options.length > 0 ? options.join(',') : 'defaults';
  return `${fstabField(source)} ${fstabField(target)} ${fstabField(type)} ${fstabField(opts)} 0 0`;
}

/**
 * Compiles the mount steps: runs of mounts become one util-linux `mount -a -T <fstab>` each
 * (one process for dozens of mounts; `X-mount.mkdir` creates the targets, `bind,ro` is the
 * bind + read-only remount), and shell commands (touch for file targets, symlinks, mknod,
 * sysctls, a read-only remount) run between the batches in order.
 */
function compileSteps(plan: InitPlan, files: InitProgram['files']): string[] {
  const lines: string[] = [];
  let batch: string[] = [];
  let batchTargets: string[] = [];
  // files that must exist before the batch that binds onto them
  let preDirs = new Set<string>();
  let preFiles: string[] = [];
  const flush = () => {
    if (preDirs.size > 0) lines.push(`mkdir -p ${[...preDirs].map(quote).join(' ')}`);
    if (preFiles.length > 0) {
      lines.push(`for f in ${preFiles.map(quote).join(' ')}; do [ -e "$f" ] || : > "$f"; done`);
    }
    preDirs = new Set();
    preFiles = [];
    if (batch.length === 0) return;
    const path = `${plan.fstabDir}/fstab.${files.length}`;
    files.push({ path, content: `${batch.join('\n')}\n` });
    lines.push(`${quote(plan.mount)} -a -T ${quote(path)}`);
    batch = [];
    batchTargets = [];
  };
  const add = (line: string, target: string) => {
    batch.push(line);
    batchTargets.push(target);
  };
  const shell = (...commands: string[]) => {
    flush();
    lines.push(...commands);
  };
  const deferred: string[] = [];
  const under = (target: string) => batchTargets.some((t) => target.startsWith(`${t}/`));

  add(fstabLine(plan.rootfs, plan.rootfs, 'none', ['rbind']), plan.rootfs);
  for (const step of plan.steps) {
    switch (step.kind) {
      case 'fs':
        add(
          fstabLine(step.source, step.target, step.type, [...step.options, 'X-mount.mkdir']),
          step.target,
        );
        break;
      case 'bind': {
        const options = [step.recursive ? 'rbind' : 'bind'];
        if (step.readonly) options.push('ro');
        if (step.propagation !== undefined) options.push(step.propagation);
        if (step.file) {
          // the target file must exist: create it before this batch, unless an earlier
          // mount of the batch covers it (then after that batch)
          if (under(step.target)) flush();
          preDirs.add(step.target.slice(0, step.target.lastIndexOf('/')) || '/');
          preFiles.push(step.target);
        } else {
          options.push('X-mount.mkdir');
        }
        add(fstabLine(step.source, step.target, 'none', options), step.target);
        break;
      }
      case 'cgroup-v1':
        add(
          fstabLine('tmpfs', step.target, 'tmpfs', [
            'nosuid',
            'nodev',
            'noexec',
            'mode=755',
            'X-mount.mkdir',
          ]),
          step.target,
        );
        for (const b of step.binds) {
          const t = `${step.target}/${b.controller}`;
          add(
            fstabLine(b.source, t, 'none', [
              'bind',
              'ro',
              'nosuid',
              'nodev',
              'noexec',
              'X-mount.mkdir',
            ]),
            t,
          );
        }
        deferred.push(`mount -o remount,ro,nosuid,nodev,noexec ${quote(step.target)}`);
        break;
      case 'device':
        shell(
          `rm -f ${quote(step.target)}`,
          `mknod -m ${step.mode.toString(8)} ${quote(step.target)} ${step.type} ${step.major} ${step.minor}`,
        );
        break;
      case 'symlink':
        // nothing mounts through these: after the last batch, saving a batch split
        deferred.push(`ln -sfn ${quote(step.link)} ${quote(step.target)}`);
        break;
      case 'mask':
        add(
          step.directory
            ? fstabLine('tmpfs', step.target, 'tmpfs', ['ro', 'nosuid', 'nodev', 'noexec'])
            : fstabLine('/dev/null', step.target, 'none', ['bind']),
          step.target,
        );
        break;
      case 'readonly':
        add(
          fstabLine(step.target, step.target, 'none', ['bind', 'ro', 'nosuid', 'nodev', 'noexec']),
          step.target,
        );
        break;
      case 'sysctl':
        shell(`echo ${quote(step.value)} > ${quote(step.file)}`);
        break;
      case 'console':
        shell(
          `: > ${quote(step.target)}`,
          `mount --bind "$(readlink /proc/self/fd/0)" ${quote(step.target)}`,
          ...(step.rows === undefined || step.cols === undefined
            ? []
            : [`stty rows ${step.rows} cols ${step.cols}`]),
        );
        break;
    }
  }
  flush();
  lines.push(...deferred);
  return lines;
}

/** Closes every fd above 2 of the shell that runs it (in-process: a glob, no fork). */
export const CLOSE_FDS =
  'for f in /proc/self/fd/*; do n=${f##*/}; case $n in 0|1|2) ;; *) eval "exec $n>&-" ;; esac; done';

/** The script run by the container's PID 1 (see the module comment). */
export function initScript(plan: InitPlan): InitProgram {
  const files: InitProgram['files'] = [];
  const lines = [
    'set -e',
    // setup errors go to the status pipe (fd 3); the container's stderr is kept in fd 5
    'exec 5>&2 2>&3',
    // the host pid of this shell: /proc is still the host's procfs here
    'read -r hostpid _rest < /proc/self/stat',
    `mkfifo -m 600 ${quote(plan.fifo)}`,
    `exec 4<>${quote(plan.fifo)}`,
    ...compileSteps(plan, files),
  ];
  if (plan.hostname !== undefined) lines.push(`hostname ${quote(plan.hostname)}`);
  if (plan.loopback) lines.push('ip link set lo up');
  lines.push(
    `cd ${quote(plan.rootfs)}`,
    'pivot_root . .',
    'umount -l .',
    'cd /',
    `mkdir -p ${quote(plan.cwd)} 2>/dev/null || true`,
  );
  if (plan.readonlyRoot) lines.push('mount -o remount,bind,ro /');
  lines.push(
    'echo "ready $hostpid" >&3',
    'exec 2>&5 5>&- 3>&-',
    'read -r _go <&4',
    'exec 4<&-',
    // only stdio reaches the program: close whatever the engine leaked (fds without CLOEXEC)
    CLOSE_FDS,
    [
      'exec setpriv',
      ...plan.finalSetpriv.map(quote),
      '-- nsenter -F',
      ...(plan.uid === 0 ? [] : ['-S', String(plan.uid)]),
      quote(`-w${plan.cwd}`),
      '-- env -i --',
      ...plan.env.map(quote),
      quote(plan.program),
      ...plan.args.map(quote),
    ].join(' '),
  );
  return { script: `${lines.join('\n')}\n`, files };
}
