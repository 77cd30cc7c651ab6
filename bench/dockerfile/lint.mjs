/* global process, console, Buffer */
// Dockerfile lint throughput: lab's BuildKit build checks (packages/dockerfile/dist `lint`)
// vs the npm package dockerfile-utils (`validate`, the checker behind the VS Code Docker
// extension), over the BuildKit conformance Dockerfiles plus a multi-stage Dockerfile, in
// the same process. BuildKit itself (`docker build --check`) needs buildx, which this
// machine cannot install, so the npm linter is the reference. Build first:
//   pnpm --filter @lab/dockerfile build
//
//   node bench/dockerfile/lint.mjs [seconds-per-side]   (default 5)
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const dataDir =
  process.env.LAB_BUILDKIT_CONFORMANCE ?? path.resolve(repoRoot, '../shared/conformance/buildkit');
const dist = path.join(repoRoot, 'packages/dockerfile/dist/index.js');
if (!existsSync(dist)) {
  console.error(`${dist} is missing: run pnpm --filter @lab/dockerfile build first`);
  process.exit(1);
}
const lab = await import(dist);
const require = createRequire(path.join(repoRoot, 'packages/dockerfile/package.json'));
const utils = require('dockerfile-utils');

const MULTI_STAGE = `# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
ARG ALPINE_VERSION=3.20
FROM --platform=$BUILDPLATFORM golang:\${GO_VERSION}-alpine\${ALPINE_VERSION} AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \\
    --mount=type=cache,target=/go/pkg/mod \\
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ./cmd/app
FROM build AS test
RUN go test ./...
FROM alpine:\${ALPINE_VERSION} AS runtime
RUN apk add --no-cache ca-certificates tzdata && adduser -D -u 10001 app
COPY --from=build --chown=10001:10001 /out/app /usr/local/bin/app
USER app
EXPOSE 8080/tcp
HEALTHCHECK --interval=30s --timeout=3s CMD ["/usr/local/bin/app", "health"]
ENTRYPOINT ["/usr/local/bin/app"]
CMD ["serve"]
`;

const files = [MULTI_STAGE];
for (const dir of ['parser', 'parser-line', 'parser-heredoc', 'parser-warnings']) {
  const base = path.join(dataDir, dir);
  const names = existsSync(path.join(base, 'Dockerfile')) ? [''] : readdirSync(base);
  for (const name of names) files.push(readFileSync(path.join(base, name, 'Dockerfile'), 'utf8'));
}
const bytes = files.reduce((n, f) => n + Buffer.byteLength(f), 0);
const seconds = Number(process.argv[2] ?? 5);

function measure(name, lintOne) {
  let sink = 0;
  for (let i = 0; i < 50; i++) for (const f of files) sink += lintOne(f);
  let rounds = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 5; i++) for (const f of files) sink += lintOne(f);
    rounds += 5;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  const opsPerSec = (rounds * files.length) / secs;
  const mbPerSec = (rounds * bytes) / secs / 1e6;
  console.log(
    `${name.padEnd(18)} ${opsPerSec.toFixed(0).padStart(8)} files/s ${mbPerSec.toFixed(2).padStart(7)} MB/s  (${rounds} rounds in ${secs.toFixed(2)} s, findings/round ${(sink / (rounds + 50)).toFixed(0)})`,
  );
  return opsPerSec;
}

console.log(
  `${files.length} Dockerfiles, ${bytes} bytes per round, node ${process.version}, ${seconds} s per linter`,
);
const labOps = measure('lab lint', (t) => {
  const r = lab.lint(t);
  return r.warnings.length + (r.error ? 1 : 0);
});
const utilsOps = measure('dockerfile-utils', (t) => utils.validate(t).length);
console.log(
  `ratio: lab is ${(labOps / utilsOps).toFixed(2)}x the throughput of dockerfile-utils validate`,
);
