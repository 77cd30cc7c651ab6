// Writes the build artefact dist/build.json for a profile (dev or prod): what the server
// answers with. No dependencies, so it runs in an offline image build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const profile = process.argv[2];
if (profile !== 'dev' && profile !== 'prod') {
  console.error(`build.js: unknown profile ${JSON.stringify(profile)}: use dev or prod`);
  process.exit(2);
}
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const greeting = fs.readFileSync(path.join(root, 'src', 'greeting.txt'), 'utf8').trim();
const artefact = {
  profile,
  greeting: profile === 'prod' ? greeting : `${greeting} (development build)`,
  minified: profile === 'prod',
  node: process.version,
};
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist', 'build.json'), JSON.stringify(artefact, null, 2) + '\n');
console.log(`built profile ${profile} -> dist/build.json`);
