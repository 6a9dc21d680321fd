// The man pages disnix-soap-client(1) and disnix-webservice(8), written into dist/man/ from the
// same manuals as `--help` (protocol/command-manual.ts), so that both always list the same options.
// Runs after tsc in `npm run build`; package.json's "man" names the two files.
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const { manPage } = require(path.join(dist, 'protocol', 'command-manual.js'));
const { clientManual } = require(path.join(dist, 'soap-client', 'usage.js'));
const { gatewayManual } = require(path.join(dist, 'server', 'config', 'usage.js'));
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// A fixed date where the build asks for reproducibility, else the day of the build.
const epoch = process.env.SOURCE_DATE_EPOCH;
const date = (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().slice(0, 10);
const out = path.join(dist, 'man');
fs.mkdirSync(out, { recursive: true });
for (const manual of [clientManual(), gatewayManual()]) {
  fs.writeFileSync(path.join(out, `${manual.name}.${manual.section}`), manPage(manual, version, date));
}
