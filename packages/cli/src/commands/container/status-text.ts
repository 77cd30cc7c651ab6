/** docker's STATUS column and `ps` rows. */
import type { Container, MountPoint } from '@lab/lifecycle';
import { humanDuration, timeAgo } from '../../output/human-duration.js';

/** `Up 3 seconds`, `Up 5 seconds (Paused)`, `Exited (137) 2 seconds ago`, `Created`, `Restarting (1) 2 seconds ago`. */
export function statusText(c: Container, now = new Date()): string {
  const s = c.state;
  const since = (t: string) => Math.max(0, now.getTime() - new Date(t).getTime());
  switch (s.Status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(since(s.StartedAt))}`;
    case 'paused':
      return `Up ${humanDuration(since(s.StartedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${timeAgo(s.FinishedAt, now)}`;
    case 'exited':
      return new Date(s.FinishedAt).getUTCFullYear() <= 1
        ? `Exited (${s.ExitCode})`
        : `Exited (${s.ExitCode}) ${timeAgo(s.FinishedAt, now)}`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

function quoteCommand(c: Container): string {
  return [c.config.Path, ...c.config.Args].join(' ');
}

/** One `ps` row (docker's field names for --format). */
export function psRow(c: Container, noTrunc: boolean, now = new Date()): Record<string, string> {
  let command = quoteCommand(c);
  if (!noTrunc && command.length > 20) command = `${command.slice(0, 19)}…`;
  const ports = Object.entries(c.config.HostConfig.PortBindings)
    .flatMap(([port, binds]) => binds.map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${port}`))
    .join(', ');
  return {
    ID: noTrunc ? c.id : c.id.slice(0, 12),
    Image: c.config.ImageName,
    Command: `"${command}"`,
    CreatedAt: c.config.Created,
    RunningFor: timeAgo(c.config.Created, now),
    Status: statusText(c, now),
    State: c.state.Status,
    Ports: ports,
    Names: c.name,
    Labels: Object.entries(c.config.Config.Labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Mounts: c.config.Mounts.map((m) => m.Destination).join(','),
  };
}

/** docker's `container inspect` object. */
export function inspectContainer(
  c: Container,
  /**
   * What the providers know: `NetworkSettings` of a container on the bridge, `Mounts` entries
   * of its volumes.
   */
  extra: { networkSettings?: Record<string, unknown>; volumeMounts?: readonly MountPoint[] } = {},
): Record<string, unknown> {
  const networkSettings = extra.networkSettings;
  const s = c.state;
  return {
    Id: c.id,
    Created: c.config.Created,
    Path: c.config.Path,
    Args: c.config.Args,
    State: {
      Status: s.Status,
      Running: s.Status === 'running' || s.Status === 'paused',
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
    },
    Image: c.config.Image,
    ResolvConfPath: `${c.dir}/resolv.conf`,
    HostnamePath: `${c.dir}/hostname`,
    HostsPath: `${c.dir}/hosts`,
    LogPath: `${c.dir}/json.log`,
    Name: c.config.Name,
    RestartCount: s.RestartCount,
    Driver: c.config.Driver,
    Platform: c.config.Platform,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    HostConfig: { ...c.config.HostConfig, LogConfig: { Type: 'json-file', Config: {} } },
    GraphDriver: { Name: c.config.Driver, Data: { MergedDir: `${c.dir}/rootfs` } },
    Mounts: [...c.config.Mounts, ...(extra.volumeMounts ?? [])],
    Config: c.config.Config,
    NetworkSettings: networkSettings ?? {
      Bridge: '',
      SandboxID: '',
      Ports: Object.fromEntries(
        Object.entries(c.config.HostConfig.PortBindings).map(([k, v]) => [k, v]),
      ),
      IPAddress: '',
      Networks:
        c.config.HostConfig.NetworkMode === 'none' || c.config.HostConfig.NetworkMode === 'host'
          ? {
              [c.config.HostConfig.NetworkMode]: {
                NetworkID: c.config.HostConfig.NetworkMode,
                IPAddress: '',
              },
            }
          : {},
    },
  };
}
