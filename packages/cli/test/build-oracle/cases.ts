/**
 * The oracle's Dockerfiles: every instruction, built by docker (BuildKit in dockerd 20.10) and by
 * lab from the same context, and compared (config + file tree).
 *
 * Left out because the oracle cannot build them — dockerd 20.10's built-in Dockerfile frontend
 * (BuildKit 0.8 era, and `# syntax=` needs a registry) rejects them: heredocs (`RUN <<EOF`,
 * `COPY <<EOF`), `COPY --link`, `COPY --exclude`, `COPY --parents`. lab's own tests cover those.
 */

/** A context entry: text (mode 0644), or a file with a mode, a symlink, a directory, a tar. */
export type ContextEntry =
  | string
  | { readonly content: string; readonly mode: number }
  | { readonly symlink: string }
  | { readonly dir: true; readonly mode?: number }
  | {
      readonly tar: Readonly<Record<string, ContextEntry>>;
      readonly compress?: 'gzip' | 'xz' | 'bzip2';
      /** Owner of every entry in the tar (`--owner`/`--group`), default 0. */
      readonly owner?: number;
    };

/** Tree lines (see ./image-tree.ts) that only one side has. */
export interface TreeDifferences {
  readonly onlyDocker: readonly string[];
  readonly onlyLab: readonly string[];
}

export interface OracleBuild {
  /** `--target`. */
  readonly target?: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** Content of the secret `tok`, passed as `--secret id=tok,src=FILE` (a file outside the context). */
  readonly secret?: string;
  /**
   * A known divergence of lab from docker, pinned exactly: the test fails when it changes, in
   * particular when lab is fixed (then delete the entry). Each one names the bug.
   */
  readonly knownDifferences?: TreeDifferences;
  /**
   * A known divergence in the history, pinned the same way: docker's image must have the
   * `docker` lines, which are replaced by the `lab` lines before the histories are compared.
   */
  readonly knownHistory?: { readonly docker: readonly string[]; readonly lab: readonly string[] };
}

export interface OracleCase {
  readonly name: string;
  readonly dockerfile: string;
  readonly context: Readonly<Record<string, ContextEntry>>;
  /** One build per entry (same context); default one build of the last stage. */
  readonly builds?: readonly OracleBuild[];
  /**
   * Tree lines docker's image must have (each pattern matches exactly one): a check that the
   * case does what it says, so that two builders agreeing on nothing happening does not pass.
   */
  readonly expect?: readonly RegExp[];
  /**
   * Empty directories dockerd 20.10's BuildKit leaves in the image where RUN --mount targets
   * (and their missing parents) were created; BuildKit since v0.11 removes such mount stubs
   * after the step (`executor/stubs.go` MountStubsCleaner), and lab does too. The oracle checks
   * docker's image has exactly these as `dir 0755 0:0` and drops them before comparing.
   */
  readonly oracleMountStubs?: readonly string[];
  /** Tag the image gets on both sides (for a later case's FROM). */
  readonly tag?: string;
}

const lines = (...l: string[]): string => `${l.join('\n')}\n`;

export const CASES: readonly OracleCase[] = [
  {
    name: 'metadata: ARG global/stage/--build-arg, ENV both forms, LABEL, WORKDIR chains, USER, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, CMD',
    context: { 'a.txt': 'a\n', 'dir/one.txt': 'one\n' },
    dockerfile: lines(
      'ARG BASE=busybox',
      'ARG GLOBAL_ONLY=global',
      'FROM scratch AS files',
      'COPY a.txt /a.txt',
      'COPY dir/ /d/',
      'LABEL stage=files',
      'FROM ${BASE}',
      'ARG GLOBAL_ONLY',
      'ARG VERSION=1.0',
      'ARG OVERRIDE=default',
      'ARG EMPTY',
      'ENV LEGACY value with  spaces',
      'ENV A=1 B="two words" C=${VERSION}-${OVERRIDE} D=${EMPTY:-fallback} E=${VERSION:+set}',
      'ENV GLOBAL=${GLOBAL_ONLY} PATH=/opt/bin:$PATH',
      'ENV A=replaced-in-place',
      'ENV X=old',
      'ENV X=new Y=$X',
      'LABEL org.example.version=$VERSION "multi word"="yes" empty=""',
      'LABEL org.example.version=2',
      'WORKDIR /srv',
      'WORKDIR app',
      'WORKDIR ../data/./x/',
      'WORKDIR $C',
      'USER nobody',
      'WORKDIR /owned-by-user',
      'USER 1000:1000',
      'EXPOSE 80 443/tcp 53/udp',
      'EXPOSE 80/tcp',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache /var/v',
      'STOPSIGNAL SIGUSR1',
      'HEALTHCHECK --interval=5s --timeout=2s --start-period=1s --retries=4 CMD wget -q -O- http://localhost/ || exit 1',
      'SHELL ["/bin/sh", "-ec"]',
      'CMD echo "$A"',
    ),
    builds: [{ buildArgs: { OVERRIDE: 'from-cli' } }, { target: 'files' }],
  },
  {
    name: 'CMD/ENTRYPOINT reset rules, HEALTHCHECK forms, STOPSIGNAL number',
    context: {},
    dockerfile: lines(
      'FROM busybox AS base',
      'CMD ["base-cmd"]',
      'FROM base AS inherited-cmd-then-entrypoint',
      'ENTRYPOINT ["/bin/echo"]',
      'FROM busybox AS image-cmd-then-entrypoint',
      'ENTRYPOINT /bin/echo shell form',
      'FROM busybox AS cmd-then-entrypoint',
      'CMD ["kept"]',
      'ENTRYPOINT ["/bin/echo", "x"]',
      'FROM busybox AS entrypoint-then-cmd',
      'ENTRYPOINT ["/bin/echo"]',
      'CMD ["after"]',
      'HEALTHCHECK CMD ["/bin/true"]',
      'FROM entrypoint-then-cmd AS healthcheck-none',
      'HEALTHCHECK NONE',
      'STOPSIGNAL 9',
      'FROM busybox AS shell-cmd',
      'SHELL ["/bin/ash", "-c"]',
      'CMD echo from ash',
      'HEALTHCHECK --interval=1m30s CMD test -e /tmp',
    ),
    builds: [
      { target: 'inherited-cmd-then-entrypoint' },
      { target: 'image-cmd-then-entrypoint' },
      { target: 'cmd-then-entrypoint' },
      { target: 'entrypoint-then-cmd' },
      { target: 'healthcheck-none' },
      { target: 'shell-cmd' },
    ],
  },
  {
    name: 'COPY: globs, directory contents, destination rules, --chown, --chmod, symlinks',
    expect: [
      /^\/real\/a\.txt file 0644 0:0 2 \w+ @context$/,
      /^\/over\.txt file 0644 0:0 3 \w+ @context$/,
      /^\/chown-ids\/sub dir 0755 1000:2000$/,
      /^\/followed file 0644 0:0 2 \w+ @context$/,
      /^\/dircontents\/link link 0:0 -> one\.txt @context$/,
      /^\/w\/rel\/a\.txt file /,
      // a directory's contents copied to a new destination: the destination is 0755
      /^\/chmod-dir dir 0755 0:0$/,
      /^\/chmod-dir\/sub dir 0750 0:0$/,
      /^\/private-no-slash dir 0755 0:0$/,
      /^\/private-slash dir 0755 0:0$/,
      // names from the stage's own /etc/passwd, added by a RUN
      /^\/app-owned file 0644 1234:5678 /,
      /^\/app-dir\/sub dir 0755 1234:0$/,
      /^\/app-wd dir 0755 1234:5678$/,
      /^\/app-wd\/made-by-app file 0644 1234:5678 0 /,
      /^\/app-wd\/b\.txt file 0644 0:0 /,
    ],
    context: {
      'a.txt': 'a\n',
      'b.txt': 'bb\n',
      'c.md': 'c\n',
      'exec.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      'private.txt': { content: 'p\n', mode: 0o600 },
      'dir/one.txt': 'one\n',
      'dir/sub/two.txt': 'two\n',
      'dir/sub2/three.txt': 'three\n',
      'dir/link': { symlink: 'one.txt' },
      'top-link': { symlink: 'a.txt' },
      'empty-dir': { dir: true },
      'private-dir/x': { content: 'x\n', mode: 0o600 },
      'private-dir': { dir: true, mode: 0o700 },
    },
    dockerfile: lines(
      'FROM busybox',
      'WORKDIR /w',
      'COPY a.txt .',
      'COPY a.txt rel/',
      'COPY a.txt b.txt /multi/',
      'COPY *.txt /glob/',
      'COPY [ab].txt /class/',
      'COPY ?.md /question/',
      'COPY dir/sub* /globdir/',
      'COPY dir /dircontents',
      'COPY dir/ /dircontents-slash/',
      'COPY a.txt /newname',
      'COPY exec.sh private.txt /bin/',
      'COPY top-link /followed',
      'COPY empty-dir /empty/',
      'COPY empty-dir /empty-as-name',
      'COPY --chown=nobody a.txt /chown-name',
      'COPY --chown=1000:2000 dir /chown-ids/',
      'COPY --chown=root:nobody b.txt /chown-mixed',
      'COPY --chmod=0600 a.txt /chmod-file',
      'COPY --chmod=750 dir /chmod-dir/',
      'COPY a.txt /deep/new/parents/',
      'RUN mkdir /already',
      'COPY a.txt /already',
      'COPY b.txt /already/',
      'COPY a.txt /multi/a.txt',
      'COPY private-dir /private-no-slash',
      'COPY private-dir/ /private-slash/',
      'RUN mkdir /real && ln -s /real /link && echo old > /over.txt && chmod 0600 /over.txt',
      'COPY a.txt /link/',
      'COPY b.txt /over.txt',
      "RUN echo 'app:x:1234:5678::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:5678:' >> /etc/group",
      'COPY --chown=app a.txt /app-owned',
      'COPY --chown=app:root dir /app-dir/',
      'USER app',
      'WORKDIR /app-wd',
      'RUN id > id.txt && touch made-by-app',
      'COPY b.txt .',
    ),
  },
  {
    name: 'COPY: odd names, absolute symlinks, --chown with --chmod, symlinked WORKDIR, relative and .. destinations',
    context: {
      'with space.txt': 'space\n',
      'ünïcödé-名前.txt': 'unicode\n',
      empty: '',
      'big.bin': 'x'.repeat(1 << 20),
      'links/abs': { symlink: '/etc/passwd' },
      'links/dangling': { symlink: 'nowhere' },
      'links/up': { symlink: '../with space.txt' },
    },
    dockerfile: lines(
      'FROM busybox',
      'COPY ["with space.txt", "/spaced dest/"]',
      'COPY ünïcödé-名前.txt empty big.bin rel/',
      'COPY links /links/',
      'COPY --chown=1000:1000 --chmod=0640 empty /both',
      'RUN mkdir -p /real-wd && ln -s /real-wd /wd-link',
      'WORKDIR /wd-link',
      'COPY empty ./in-linked-wd',
      'WORKDIR /tmp',
      'WORKDIR /a/b',
      'COPY empty ../up-one',
      'COPY empty ../../../../top-clamped',
    ),
    builds: [
      {
        /**
         * lab divergence (WORKDIR layer): BuildKit 0.8 makes every WORKDIR other than `/` a
         * layer, also when the directory exists (here /tmp, and /wd-link through a symlink),
         * whose diff is then empty; lab records an empty-layer history entry instead. Today's
         * dispatchWorkdir reads the same (`withLayer = true` for any WORKDIR but `/`).
         */
        knownHistory: {
          docker: ['WORKDIR /wd-link', 'WORKDIR /tmp'],
          lab: ['WORKDIR /wd-link (empty)', 'WORKDIR /tmp (empty)'],
        },
      },
    ],
    expect: [
      /^\/spaced dest\/with space\.txt file 0644 0:0 6 /,
      /^\/rel\/ünïcödé-名前\.txt file /,
      /^\/rel\/big\.bin file 0644 0:0 1048576 /,
      /^\/links\/abs link 0:0 -> \/etc\/passwd @context$/,
      /^\/links\/dangling link 0:0 -> nowhere @context$/,
      /^\/both file 0640 1000:1000 0 /,
      /^\/real-wd\/in-linked-wd file /,
      /^\/a\/up-one file /,
      /^\/top-clamped file /,
    ],
  },
  {
    name: 'COPY --from: stage name, stage index, scratch stage, image, with --chown',
    context: {},
    dockerfile: lines(
      'FROM busybox AS build',
      'RUN mkdir -p /out/sub && echo built > /out/sub/file && chmod 0640 /out/sub/file && ln -s sub/file /out/link && chown 1000:1000 /out/sub',
      'FROM scratch AS second',
      'COPY --from=build /out /o',
      'FROM busybox',
      'COPY --from=0 /out/ /from-index/',
      'COPY --from=build /out/sub/file /from-name',
      'COPY --from=second /o /from-scratch-stage',
      'COPY --from=busybox /etc/passwd /from-image-passwd',
      'COPY --from=build --chown=nobody:nobody /out /chowned',
      'COPY --from=build /out/link /followed-link',
    ),
  },
  {
    name: 'ADD: local tar extraction (plain, gzip, xz, bzip2: by content, not name), plain files, --chown, --chmod',
    expect: [
      /^\/x\/sub\/inner\.txt file 0640 1000:1000 6 \w+ @base$/,
      /^\/x\/sub\/ln link 1000:1000 -> inner\.txt @base$/,
      /^\/y\/g\/two file /,
      /^\/both\/top\.txt file /,
      /^\/z\/note\.txt file 0644 0:0 5 \w+ @context$/,
      /^\/mode\.txt file 0700 /,
      /^\/compressed\/xzdir\/f file 0644 0:0 3 /,
      /^\/compressed\/bzdir\/f file 0644 0:0 3 /,
      /^\/fake\/fake\.tar file 0644 0:0 18 /,
      /^\/secret\/key file 0600 42:42 2 /,
    ],
    context: {
      'plain.tar': {
        tar: {
          'top.txt': 'top\n',
          'sub/inner.txt': { content: 'inner\n', mode: 0o640 },
          'sub/tool': { content: '#!/bin/sh\n', mode: 0o755 },
          'sub/ln': { symlink: 'inner.txt' },
        },
        owner: 1000,
      },
      'gz.tar.gz': { tar: { 'g/one': 'g1\n', 'g/two': 'g2\n' }, compress: 'gzip' },
      'archive.xz': { tar: { 'xzdir/f': 'xz\n' }, compress: 'xz' },
      'archive.bz': { tar: { 'bzdir/f': 'bz\n' }, compress: 'bzip2' },
      'fake.tar': 'not a tar archive\n',
      'private.tar': { tar: { 'secret/key': { content: 'k\n', mode: 0o600 } }, owner: 42 },
      'note.txt': 'note\n',
    },
    dockerfile: lines(
      'FROM busybox',
      'ADD plain.tar /x/',
      'ADD gz.tar.gz /y',
      'ADD plain.tar gz.tar.gz /both/',
      'ADD note.txt /z/',
      'ADD --chown=1000:1000 note.txt /owned.txt',
      'ADD --chmod=0700 note.txt /mode.txt',
      'ADD archive.xz archive.bz /compressed/',
      'ADD fake.tar /fake/',
      'ADD private.tar /',
    ),
  },
  {
    name: 'RUN: shell and exec forms, ARG and ENV in the environment, SHELL, USER, whiteouts and opaque directories',
    expect: [
      /^\/swap1 file 0644 0:0 0 \w+$/,
      /^\/proxy\.txt file 0644 0:0 51 /,
      /^\/swap2 dir /,
      /^\/swap3 dir /,
      /^\/opq\/a\/g file /,
      /^\/opq\/keep file /,
      /^\/tmp\/as-user file 0644 1000:1000 /,
      /^\/shell\.txt file 0600 0:0 /,
      /^\/bin\/busybox file 0755 0:0 \d+ \w+ @base$/,
    ],
    context: {},
    dockerfile: lines(
      'FROM busybox',
      'RUN echo shell > /shell.txt',
      'RUN ["/bin/sh", "-c", "echo exec > /exec.txt"]',
      'RUN ["touch", "/exec-direct"]',
      'ARG V=1',
      'RUN echo "arg=$V" > /arg.txt',
      'ENV E=env',
      'RUN echo "env=$E" > /env.txt',
      'RUN env | grep -v -e ^HOSTNAME= -e ^SHLVL= -e ^PWD= | sort > /run-env.txt',
      'SHELL ["/bin/sh", "-euc"]',
      'RUN echo "shell changed: $0" > /shell2.txt',
      'USER 1000:1000',
      'RUN touch /tmp/as-user && mkdir /tmp/user-dir && id > /tmp/id.txt',
      'USER nobody',
      'WORKDIR /tmp/nobody-wd',
      'RUN pwd > /tmp/pwd.txt',
      'USER root',
      'RUN rm /exec-direct /bin/vi && echo gone',
      'RUN mkdir -p /opq/a && touch /opq/a/f /opq/keep',
      'RUN rm -rf /opq/a && mkdir /opq/a && touch /opq/a/g',
      'RUN mkdir /swap1 && touch /swap1/x /swap2 && ln -s /bin /swap3',
      'RUN rm -rf /swap1 /swap2 /swap3 && touch /swap1 && mkdir /swap2 /swap3',
      'ENV SHADOW=env',
      'ARG SHADOW=arg',
      'RUN echo "$SHADOW" > /shadow.txt',
      'RUN chmod 0600 /shell.txt && chown 1000:1000 /env.txt',
      'RUN echo "proxy=$HTTP_PROXY no_proxy=$no_proxy" > /proxy.txt',
    ),
    // proxy args reach RUN without an ARG and stay out of the history
    builds: [
      {
        buildArgs: { HTTP_PROXY: 'http://proxy.invalid:3128', no_proxy: 'localhost' },
      },
    ],
  },
  {
    name: 'RUN --mount: bind (context and stage), cache, tmpfs, secret',
    context: { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' },
    dockerfile: lines(
      'FROM busybox AS s',
      'RUN mkdir /out && echo from-stage > /out/s',
      'FROM busybox',
      'RUN --mount=type=bind,source=a.txt,target=/mnt/a cat /mnt/a > /bind-file.txt',
      'RUN --mount=type=bind,source=sub,target=/srv/sub ls /srv/sub > /bind-dir.txt',
      'RUN --mount=type=bind,from=s,source=/out,target=/from-stage cat /from-stage/s > /stage.txt',
      'RUN --mount=type=cache,target=/var/cache/c echo x > /var/cache/c/x && ls /var/cache/c > /cache-list.txt',
      'RUN --mount=type=tmpfs,target=/scratch touch /scratch/gone && ls /scratch > /tmpfs-list.txt',
      'RUN --mount=type=secret,id=tok cat /run/secrets/tok > /secret-seen.txt',
      'RUN --mount=type=secret,id=tok,target=/etc/tok,required=true wc -c < /etc/tok > /secret-len.txt',
    ),
    builds: [{ secret: 's3cret' }],
    oracleMountStubs: [
      '/from-stage',
      '/mnt',
      '/run',
      '/run/secrets',
      '/scratch',
      '/srv',
      '/srv/sub',
      '/var',
      '/var/cache',
      '/var/cache/c',
    ],
    expect: [
      /^\/bind-file\.txt file 0644 0:0 2 /,
      /^\/stage\.txt file 0644 0:0 11 /,
      /^\/secret-seen\.txt file 0644 0:0 6 /,
    ],
  },
  {
    name: 'expansion, quoting, line continuations, port ranges, stage inheritance',
    context: {},
    dockerfile: lines(
      'FROM busybox AS base',
      'ARG SIG=SIGQUIT',
      'ARG DIR=/data',
      'ARG PORT=8080',
      'ENV Q="a \\"quoted\\" ${SIG}" R=\'single $SIG\' S=a\\ b T=${UNSET:-def} U=${SIG:+alt} V=\\$SIG',
      'LABEL multi="line one" \\',
      '      other=two',
      'EXPOSE 8000-8002 ${PORT}/udp',
      'VOLUME ${DIR} /x',
      'STOPSIGNAL ${SIG}',
      'WORKDIR ${DIR}/work',
      'USER 1000',
      'RUN echo one \\',
      '    # a comment inside a continuation',
      '    two > /tmp/cont.txt',
      // No RUN in the child stage: today's BuildKit (and lab) pass the parent stage's ARGs on to
      // a stage built FROM it (research dockerfile.md §7), BuildKit 0.8 does not, which shows in
      // a child RUN's history (`RUN |3 SIG=… …`) and environment.
      'FROM base',
      'COPY --from=base /tmp/*.txt /copied/',
    ),
    // USER 1000 has no passwd entry: gid 0; the WORKDIR came before the USER
    expect: [/^\/copied\/cont\.txt file 0644 1000:0 8 /, /^\/data\/work dir 0755 0:0$/],
  },
  {
    name: 'escape parser directive',
    context: {},
    dockerfile: lines(
      '# escape=`',
      'FROM busybox',
      'RUN echo a `',
      '    b > /c.txt',
      'ENV P=C:\\path\\x W=`$HOME',
      'COPY --from=busybox /etc/group /g',
    ),
    expect: [/^\/c\.txt file 0644 0:0 4 /],
  },
  {
    name: 'ONBUILD parent image',
    tag: 'oracle-onbuild-parent',
    context: { 'trigger.txt': 'from the parent context\n' },
    dockerfile: lines(
      'FROM busybox',
      'ONBUILD ARG OB=1',
      'ONBUILD COPY trigger.txt /triggered/',
      'ONBUILD RUN echo "onbuild ran with $OB" > /onbuild.txt',
      'ONBUILD ENV FROM_ONBUILD=yes',
      'LABEL parent=yes',
    ),
  },
  {
    name: 'ONBUILD triggers run in a child build, the child keeps only its own',
    expect: [/^\/seen\.txt file /, /^\/triggered\/trigger\.txt file 0644 0:0 23 \w+ @context$/],
    context: { 'trigger.txt': 'from the child context\n' },
    dockerfile: lines(
      'FROM oracle-onbuild-parent',
      'ONBUILD RUN echo grandchild',
      'RUN cat /onbuild.txt /triggered/trigger.txt > /seen.txt',
    ),
  },
  {
    name: 'multi-stage with --target',
    context: {},
    dockerfile: lines(
      'FROM busybox AS a',
      'RUN echo a > /a',
      'FROM a AS b',
      'RUN echo b > /b',
      'ENV STAGE=b',
      'FROM busybox AS c',
      'COPY --from=b /b /from-b',
      'FROM busybox AS Broken',
      'RUN exit 3',
      'FROM busybox AS Mixed',
      'RUN echo mixed > /m',
      'FROM c',
      'COPY --from=mixed /m /from-mixed',
      'LABEL last=yes',
    ),
    // stage names are case-insensitive in --target and --from; the unused failing stage is skipped
    builds: [{ target: 'b' }, { target: 'A' }, { target: 'MIXED' }, {}],
  },
  {
    name: '.dockerignore',
    expect: [
      /^\/ctx dir 0755 0:0$/,
      /^\/ctx\/keep\.log file .* @context$/,
      /^\/ctx\/src\/main\.txt file .* @context$/,
    ],
    context: {
      '.dockerignore': lines('*.log', '!keep.log', 'secret/', '**/tmp', 'Dockerfile'),
      'a.log': 'ignored\n',
      'keep.log': 'kept\n',
      'secret/key': 'k\n',
      'src/tmp/x': 'x\n',
      'src/main.txt': 'main\n',
    },
    dockerfile: lines('FROM busybox', 'COPY . /ctx/'),
    // the context directory is a mkdtemp directory (0700): /ctx must still be 0755
  },
];
