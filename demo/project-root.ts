import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The checkout's top folder (with package.json), from the sources or from a compiled copy. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root');
    dir = parent;
  }
  return dir;
}
