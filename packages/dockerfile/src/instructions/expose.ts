/**
 * EXPOSE port specifications (BuildKit `dockerfile2llb/convert_expose.go`):
 * `[ip:][hostPort:]port[-end][/proto]` → one `port/proto` entry per port, proto lower-cased
 * and `tcp` by default. IPs and host ports are accepted but reported by lint.
 */
import { goQuote } from '../shell/go-text.js';

/** What lint learns while reading one port spec. */
export interface PortSpecFindings {
  /** The protocol was not lower-case (ExposeProtoCasing). */
  readonly protoCasing: boolean;
  /** An IP address or a host port was given (ExposeInvalidFormat). */
  readonly ipOrHostPort: boolean;
}

function splitParts(raw: string): [ip: string, hostPort: string, containerPort: string] {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return ['', '', parts[0]!];
  if (n === 2) return ['', parts[0]!, parts[1]!];
  if (n === 3) return [parts[0]!, parts[1]!, parts[2]!];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, parts[n - 1]!];
}

function splitProtoPort(raw: string): [proto: string, port: string] {
  const slash = raw.indexOf('/');
  const port = slash < 0 ? raw : raw.slice(0, slash);
  const proto = slash < 0 ? '' : raw.slice(slash + 1);
  if (port === '') throw new Error('no port specified');
  switch (proto.toLowerCase()) {
    case '':
      return ['tcp', port];
    case 'tcp':
    case 'udp':
    case 'sctp':
      return [proto, port];
    default:
      throw new Error(`invalid proto: ${proto}`);
  }
}

function portNumber(raw: string): number {
  if (raw === '') throw new Error('value is empty');
  if (!/^[+-]?\d+$/.test(raw)) throw new Error('invalid syntax');
  const port = Number(raw);
  if (port < 0 || port > 65535) throw new Error('value out of range (0–65535)');
  return port;
}

function portRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  const dash = ports.indexOf('-');
  const start = dash < 0 ? ports : ports.slice(0, dash);
  const end = dash < 0 ? '' : ports.slice(dash + 1);
  const startPort = portNumber(start);
  if (dash < 0 || start === end) return [startPort, startPort];
  const endPort = portNumber(end);
  if (endPort < startPort) throw new Error(`invalid port range: ${ports}`);
  return [startPort, endPort];
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Go's `net.ParseIP` != nil, for dotted IPv4 and RFC 4291 IPv6 text. */
export function isIPAddress(s: string): boolean {
  if (IPV4.test(s)) return true;
  if (!s.includes(':')) return false;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    if (!IPV4.test(text.slice(lastColon + 1))) return false;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const parse = (h: string): string[] | undefined => {
    if (h === '') return [];
    const parts = h.split(':');
    return parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p)) ? parts : undefined;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (left === undefined || right === undefined) return false;
  const count = left.length + right.length;
  return halves.length === 2 ? count < 8 : count === 8;
}

/**
 * Expands one EXPOSE port spec into `port/proto` entries; throws BuildKit's message for an
 * invalid one. `onFindings` receives what lint reports.
 */
export function parsePortSpec(
  raw: string,
  onFindings?: (findings: PortSpecFindings) => void,
): string[] {
  const parts = splitParts(raw);
  let [ip, , containerPort] = parts;
  const hostPort = parts[1];
  let proto: string;
  try {
    [proto, containerPort] = splitProtoPort(containerPort);
  } catch (err) {
    throw new Error(`invalid port: ${goQuote(raw)}: ${(err as Error).message}`, { cause: err });
  }
  onFindings?.({
    protoCasing: proto !== proto.toLowerCase(),
    ipOrHostPort: ip !== '' || hostPort !== '',
  });
  if (ip.startsWith('[')) {
    const close = ip.indexOf(']');
    if (close < 0 || close !== ip.length - 1) throw new Error(`invalid IP address ${ip}`);
    ip = ip.slice(1, close);
  }
  if (ip !== '' && !isIPAddress(ip)) throw new Error(`invalid IP address: ${ip}`);
  let start: number;
  let end: number;
  try {
    [start, end] = portRange(containerPort);
  } catch (err) {
    throw new Error(`invalid containerPort: ${containerPort}`, { cause: err });
  }
  if (hostPort !== '') {
    let hs: number;
    let he: number;
    try {
      [hs, he] = portRange(hostPort);
    } catch (err) {
      throw new Error(`invalid hostPort: ${hostPort}`, { cause: err });
    }
    if (end - start !== he - hs && end !== start) {
      throw new Error(
        `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`,
      );
    }
  }
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${String(p)}/${proto.toLowerCase()}`);
  return out;
}
