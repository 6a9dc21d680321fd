import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The `--version` text. */
export function versionText(): string {
  return `disnix-soap-client (disnix-webservice ${readVersion()})\n`;
}

/** Reads the version from the project's package.json, above both the sources and dist/. */
function readVersion(): string {
  for (let directory = __dirname; ; directory = dirname(directory)) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'disnix-webservice' && manifest.version) return manifest.version;
    } catch {
      // not here: look in the parent directory
    }
    if (dirname(directory) === directory) return 'unknown';
  }
}
