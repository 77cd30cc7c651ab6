import { describe, expect, it } from 'vitest';
import { isInvalidArgument } from '@lab/oci';
import { applyChanges } from './changes.js';

describe('applyChanges (import --change)', () => {
  it('takes CMD and ENTRYPOINT in JSON and shell form', () => {
    expect(applyChanges({}, ['CMD ["sh"]']).Cmd).toEqual(['sh']);
    expect(applyChanges({}, ['CMD echo hi']).Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
    const c = applyChanges({ Cmd: ['old'] }, ['ENTRYPOINT ["/bin/app"]']);
    expect(c).toMatchObject({ Entrypoint: ['/bin/app'], Cmd: null });
    expect(applyChanges({}, ['CMD ["x"]', 'ENTRYPOINT ["y"]']).Cmd).toEqual(['x']);
  });
  it('merges ENV and LABEL by key, in both forms', () => {
    const c = applyChanges({ Env: ['PATH=/bin', 'A=1'] }, [
      'ENV A=2 B="two words"',
      'ENV C legacy value',
      'LABEL org.x=1 "k k"=v',
    ]);
    expect(c.Env).toEqual(['PATH=/bin', 'A=2', 'B=two words', 'C=legacy value']);
    expect(c.Labels).toEqual({ 'org.x': '1', 'k k': 'v' });
  });
  it('sets ports, volumes, user, workdir, stop signal and onbuild', () => {
    const c = applyChanges({}, [
      'EXPOSE 80 53/udp 8000-8001',
      'VOLUME ["/data", "/logs"]',
      'USER nobody',
      'WORKDIR /app',
      'WORKDIR sub',
      'STOPSIGNAL SIGQUIT',
      'ONBUILD RUN echo hi',
    ]);
    expect(c.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
    expect(c.Volumes).toEqual({ '/data': {}, '/logs': {} });
    expect(c).toMatchObject({
      User: 'nobody',
      WorkingDir: '/app/sub',
      StopSignal: 'SIGQUIT',
      OnBuild: ['RUN echo hi'],
    });
  });
  it('refuses instructions docker refuses, naming the change', () => {
    for (const change of [
      'RUN echo',
      'FROM x',
      'EXPOSE abc',
      'HEALTHCHECK NONE',
      'WORKDIR',
      'ONBUILD ONBUILD RUN x',
      'ENV A="x',
    ]) {
      let caught: unknown;
      try {
        applyChanges({}, [change]);
      } catch (err) {
        caught = err;
      }
      expect(isInvalidArgument(caught), change).toBe(true);
      expect((caught as Error).message).toContain(change);
    }
  });
  it('expands variables against the environment so far, as docker does', () => {
    const c = applyChanges({ Env: ['PATH=/bin'] }, [
      'ENV PATH=$PATH:/opt/bin HOME=/root',
      'WORKDIR $HOME',
      'LABEL home=${HOME}',
    ]);
    expect(c).toMatchObject({
      Env: ['PATH=/bin:/opt/bin', 'HOME=/root'],
      WorkingDir: '/root',
      Labels: { home: '/root' },
    });
  });
});
