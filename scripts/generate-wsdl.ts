/**
 * Writes wsdl/DisnixWebService.wsdl from the operations table (protocol/wsdl.ts).
 * Usage: npm run wsdl (compiles the dev tools into dist-dev/, then runs this from there).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../demo/project-root';
import { generateWsdl } from '../protocol/wsdl';

const file = join(projectRoot(), 'wsdl', 'DisnixWebService.wsdl');
const text = generateWsdl();
const before = readFileSync(file, 'utf8');
if (before === text) {
  console.log(`${file} is up to date`);
} else {
  writeFileSync(file, text);
  console.log(`${file} written`);
}
