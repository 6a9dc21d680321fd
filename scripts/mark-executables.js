// tsc writes files without the execute bit; the package's commands (its "bin" entries) need it
// to run as `npx disnix-soap-client` from a checkout, not only after an npm install of the package.
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const { bin } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const file of Object.values(bin)) fs.chmodSync(path.join(root, file), 0o755);
