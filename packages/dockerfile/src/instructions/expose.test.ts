import { describe, expect, it } from 'vitest';
import { isIPAddress, parsePortSpec } from './expose.js';
import type { PortSpecFindings } from './expose.js';

describe('EXPOSE port specs', () => {
  it.each([
    ['80', ['80/tcp']],
    ['53/UDP', ['53/udp']],
    ['8000-8002/sctp', ['8000/sctp', '8001/sctp', '8002/sctp']],
    ['80-80', ['80/tcp']],
    ['127.0.0.1:8080:80', ['80/tcp']],
    ['[::1]:8080:80/udp', ['80/udp']],
    ['9000-9001:80', ['80/tcp']],
  ])('%s', (spec, ports) => {
    expect(parsePortSpec(spec)).toEqual(ports);
  });

  it('reports what lint warns about', () => {
    const seen: PortSpecFindings[] = [];
    parsePortSpec('1.2.3.4:80:80/TCP', (f) => seen.push(f));
    parsePortSpec('80', (f) => seen.push(f));
    expect(seen).toEqual([
      { protoCasing: true, ipOrHostPort: true },
      { protoCasing: false, ipOrHostPort: false },
    ]);
  });

  it.each([
    ['/tcp', 'invalid port: "/tcp": no port specified'],
    ['80/icmp', 'invalid port: "80/icmp": invalid proto: icmp'],
    ['http', 'invalid containerPort: http'],
    ['90-80', 'invalid containerPort: 90-80'],
    ['65536', 'invalid containerPort: 65536'],
    ['x:80', 'invalid hostPort: x'],
    ['1.2.3.4.5:80:80', 'invalid IP address: 1.2.3.4.5'],
    [
      '8000-8001:80-85',
      'invalid ranges specified for container and host Ports: 80-85 and 8000-8001',
    ],
  ])('rejects %s', (spec, message) => {
    expect(() => parsePortSpec(spec)).toThrow(message);
  });

  it('recognises IP addresses as Go does', () => {
    for (const ip of [
      '0.0.0.0',
      '::',
      '::1',
      'fe80::1',
      '2001:db8::ff00:42:8329',
      '::ffff:1.2.3.4',
    ]) {
      expect(isIPAddress(ip)).toBe(true);
    }
    for (const ip of ['256.1.1.1', '1.2.3', 'fe80:::1', '1:2:3:4:5:6:7:8:9', 'g::1', 'localhost']) {
      expect(isIPAddress(ip)).toBe(false);
    }
  });
});
