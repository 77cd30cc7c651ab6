/**
 * docker's `PortBindings` (`{"80/tcp": [{HostIp, HostPort}]}`, ranges allowed) → one
 * {@link PublishedPort} per host port, with docker's choices: an empty host IP is `0.0.0.0`, an
 * empty host port is an ephemeral one, a host range for one container port takes the first
 * free port of the range, and a port held by another container or by a host process is an
 * error in docker's words.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { alreadyExists, invalidArgument } from '@lab/oci';
import type { PublishedPort } from './network-state.js';

/** docker's `HostConfig.PortBindings`. */
export type PortBindings = Record<string, readonly { HostIp: string; HostPort: string }[]>;

function parseRange(text: string, what: string): [number, number] {
  const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(text);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2] ?? m?.[1]);
  if (m === null || lo < 1 || hi > 65535 || hi < lo) {
    throw invalidArgument(
      `invalid ${what} "${text}": expected a port 1-65535 or a range such as 8000-8010`,
    );
  }
  return [lo, hi];
}

/** Whether a host process (not lab) can bind `ip:port` right now. */
export async function hostPortFree(
  protocol: 'tcp' | 'udp',
  ip: string,
  port: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const server = createServer();
      server.once('error', () => {
        resolve(false);
      });
      server.listen({ host: ip, port, exclusive: true }, () =>
        server.close(() => {
          resolve(true);
        }),
      );
    } else {
      const socket = createSocket('udp4');
      socket.once('error', () => {
        resolve(false);
      });
      socket.bind({ address: ip, port, exclusive: true }, () =>
        socket.close(() => {
          resolve(true);
        }),
      );
    }
  });
}

/** A port the kernel would hand out now (ephemeral), free on `ip`. */
async function ephemeralPort(protocol: 'tcp' | 'udp', ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (protocol === 'tcp') {
      const server = createServer();
      server.once('error', reject);
      server.listen({ host: ip, port: 0, exclusive: true }, () => {
        const address = server.address();
        const port = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => {
          resolve(port);
        });
      });
    } else {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind({ address: ip, port: 0, exclusive: true }, () => {
        const port = socket.address().port;
        socket.close(() => {
          resolve(port);
        });
      });
    }
  });
}

function overlaps(a: PublishedPort, b: PublishedPort): boolean {
  return (
    a.protocol === b.protocol &&
    a.hostPort === b.hostPort &&
    (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0')
  );
}

/**
 * Resolves the bindings of one container. `taken` are the ports other containers of lab hold
 * (any network); a clash with one is already-exists (`port is already allocated`), a clash
 * with a host process too (`address already in use`).
 */
export async function resolvePorts(
  bindings: PortBindings,
  taken: readonly PublishedPort[],
): Promise<PublishedPort[]> {
  const out: PublishedPort[] = [];
  const isTaken = (p: PublishedPort) => [...taken, ...out].some((t) => overlaps(t, p));
  for (const [key, hosts] of Object.entries(bindings)) {
    const [portText = '', protoText = 'tcp'] = key.split('/');
    if (protoText !== 'tcp' && protoText !== 'udp') {
      throw invalidArgument(`cannot publish ${key}: lab publishes tcp and udp ports only`);
    }
    const protocol = protoText;
    const [cLo, cHi] = parseRange(portText, 'container port');
    for (const h of hosts) {
      const hostIp = h.HostIp === '' ? '0.0.0.0' : h.HostIp;
      if (hostIp.includes(':')) {
        throw invalidArgument(
          `cannot publish ${key} on ${hostIp}: lab's bridge network is IPv4 only`,
        );
      }
      if (h.HostPort === '') {
        for (let c = cLo; c <= cHi; c++) {
          let port = 0;
          for (let attempt = 0; attempt < 20; attempt++) {
            port = await ephemeralPort(protocol, hostIp);
            if (!isTaken({ protocol, hostIp, hostPort: port, containerPort: c })) break;
          }
          out.push({ protocol, hostIp, hostPort: port, containerPort: c });
        }
        continue;
      }
      const [hLo, hHi] = parseRange(h.HostPort, 'host port');
      if (cHi - cLo === hHi - hLo) {
        for (let i = 0; i <= cHi - cLo; i++) {
          const p: PublishedPort = { protocol, hostIp, hostPort: hLo + i, containerPort: cLo + i };
          await checkFree(p, isTaken);
          out.push(p);
        }
      } else if (cLo === cHi) {
        let chosen: PublishedPort | undefined;
        for (let hp = hLo; hp <= hHi && chosen === undefined; hp++) {
          const p: PublishedPort = { protocol, hostIp, hostPort: hp, containerPort: cLo };
          if (!isTaken(p) && (await hostPortFree(protocol, hostIp, hp))) chosen = p;
        }
        if (chosen === undefined) {
          throw alreadyExists(
            `Bind for ${hostIp}:${h.HostPort} failed: port is already allocated (every port of the range is in use)`,
          );
        }
        out.push(chosen);
      } else {
        throw invalidArgument(
          `invalid port range ${h.HostPort}:${portText}: the host and container ranges must have the same length`,
        );
      }
    }
  }
  return out;
}

async function checkFree(p: PublishedPort, isTaken: (p: PublishedPort) => boolean): Promise<void> {
  if (isTaken(p)) {
    throw alreadyExists(
      `Bind for ${p.hostIp}:${String(p.hostPort)} failed: port is already allocated`,
      {
        details: { port: p },
      },
    );
  }
  if (!(await hostPortFree(p.protocol, p.hostIp, p.hostPort))) {
    throw alreadyExists(
      `driver failed programming external connectivity: listen ${p.protocol}4 ${p.hostIp}:${String(p.hostPort)}: bind: address already in use; stop the host process using the port or publish another one`,
      { details: { port: p } },
    );
  }
}

/** docker's `NetworkSettings.Ports`: every binding, keyed `80/tcp`. */
export function portsView(
  ports: readonly PublishedPort[],
): Record<string, { HostIp: string; HostPort: string }[]> {
  const view: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    (view[`${String(p.containerPort)}/${p.protocol}`] ??= []).push({
      HostIp: p.hostIp,
      HostPort: String(p.hostPort),
    });
  }
  return view;
}
