// tsc compiles only .ts files; the WSDL and the jobs page's static files travel next to them.
// Usage: node scripts/copy-assets.js OUT_DIR (dist for the product, dist-dev for the demo's copy).
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const outDir = path.join(root, process.argv[2] ?? 'dist');
for (const [dir, wanted] of [
  ['wsdl', /\.wsdl$/],
  ['server/jobs-page/static', /\.(html|js|css|svg)$/],
]) {
  const from = path.join(root, dir);
  const to = path.join(outDir, dir);
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) {
    if (wanted.test(name)) fs.copyFileSync(path.join(from, name), path.join(to, name));
  }
}
