// Serves the build artefact on $PORT (default 3000): GET / answers one line of text,
// GET /build.json the artefact itself. Stops cleanly on SIGTERM/SIGINT.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const artefactPath = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'dist',
  'build.json',
);
if (!fs.existsSync(artefactPath)) {
  console.error(
    'server.js: dist/build.json is missing: run `yarn build:dev` or `yarn build:prod` first',
  );
  process.exit(1);
}
const artefact = JSON.parse(fs.readFileSync(artefactPath, 'utf8'));
const port = Number(process.env.PORT || 3000);

const server = http.createServer((req, res) => {
  if (req.url === '/build.json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(artefact) + '\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(
    `${artefact.greeting}: profile=${artefact.profile} NODE_ENV=${process.env.NODE_ENV || ''} node=${process.version}\n`,
  );
});
server.listen(port, () => console.log(`hello-node (${artefact.profile}) listening on :${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
