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
 *        unshare --cgroup (util-linux, only for a new cgroup/time namespace)
 *        busybox unshare -f -p -m -u -i [-n] --propagation private
 *         └ setpriv --inh-caps … --regid G --groups …   (util-linux; see capabilities.ts)
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
  | { kind: 'mask'; target: string }
  | { kind: 'readonly'; target: string }
  | { kind: 'sysctl'; file: string; value: string };

/** Everything the init script needs, computed by the runtime. */
export interface InitPlan {
  /** Host path of the rootfs. */
  rootfs: string;
  /** The exec FIFO (created by the script). */
  fifo: string;
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

function mountStep(step: MountStep): string[] {
  switch (step.kind) {
    case 'fs':
      return [
        `mkdir -p ${quote(step.target)}`,
        `mount -t ${quote(step.type)}${step.options.length > 0 ? ` -o ${quote(step.options.join(','))}` : ''} ${quote(step.source)} ${quote(step.target)}`,
      ];
    case 'bind': {
      const lines = step.file
        ? [
            `mkdir -p "$(dirname ${quote(step.target)})"`,
            `[ -e ${quote(step.target)} ] || touch ${quote(step.target)}`,
          ]
        : [`mkdir -p ${quote(step.target)}`];
      lines.push(
        `mount ${step.recursive ? '--rbind' : '--bind'} ${quote(step.source)} ${quote(step.target)}`,
      );
      if (step.readonly) lines.push(`mount -o remount,bind,ro ${quote(step.target)}`);
      if (step.propagation !== undefined)
        lines.push(`mount --make-${step.propagation} ${quote(step.target)}`);
      return lines;
    }
    case 'cgroup-v1': {
      const lines = [
        `mkdir -p ${quote(step.target)}`,
        `mount -t tmpfs -o nosuid,nodev,noexec,mode=755 tmpfs ${quote(step.target)}`,
      ];
      for (const b of step.binds) {
        const t = `${step.target}/${b.controller}`;
        lines.push(
          `mkdir -p ${quote(t)}`,
          `mount --bind ${quote(b.source)} ${quote(t)}`,
          `mount -o remount,bind,ro,nosuid,nodev,noexec ${quote(t)}`,
        );
      }
      lines.push(`mount -o remount,ro,nosuid,nodev,noexec ${quote(step.target)}`);
      return lines;
    }
    case 'device':
      return [
        `rm -f ${quote(step.target)}`,
        `mknod -m ${step.mode.toString(8)} ${quote(step.target)} ${step.type} ${step.major} ${step.minor}`,
      ];
    case 'symlink':
      return [`ln -sfn ${quote(step.link)} ${quote(step.target)}`];
    case 'mask':
      return [
        `if [ -d ${quote(step.target)} ]; then mount -t tmpfs -o ro,nosuid,nodev,noexec tmpfs ${quote(step.target)}; elif [ -e ${quote(step.target)} ]; then mount --bind /dev/null ${quote(step.target)}; fi`,
      ];
    case 'readonly':
      return [
        `if [ -e ${quote(step.target)} ]; then mount --bind ${quote(step.target)} ${quote(step.target)} && mount -o remount,bind,ro,nosuid,nodev,noexec ${quote(step.target)}; fi`,
      ];
    case 'sysctl':
      return [`echo ${quote(step.value)} > ${quote(step.file)}`];
  }
}

/** The script run by the container's PID 1 (see the module comment). */
export function initScript(plan: InitPlan): string {
  const lines = [
    'set -e',
    // setup errors go to the status pipe (fd 3); the container's stderr is kept in fd 5
    'exec 5>&2 2>&3',
    // the host pid of this shell: /proc is still the host's procfs here
    'read -r hostpid _rest < /proc/self/stat',
    `mkfifo -m 600 ${quote(plan.fifo)}`,
    `exec 4<>${quote(plan.fifo)}`,
    `mount --rbind ${quote(plan.rootfs)} ${quote(plan.rootfs)}`,
  ];
  for (const step of plan.steps) lines.push(...mountStep(step));
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
  return `${lines.join('\n')}\n`;
}
