/**
 * Relative paths of files in a snapshot tree, as they cross the wire in either direction. A
 * path that could land outside its tree (`..`, absolute) or that XML cannot carry is refused
 * by both the gateway (uploads) and the client (downloads): neither trusts the other side.
 */
export function relativePathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  // XML 1.0 cannot carry these; a NUL would cut the path short in the daemon.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this test's purpose
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'holds control characters';
  const segments = path.split('/');
  if (segments.includes('..')) return 'leads outside its tree (..)';
  if (segments.some((segment) => segment === '' || segment === '.')) return 'has an empty or "." segment';
  return undefined;
}

/** A single file name (no directory part): a snapshot's name, the last segment of its path. */
export function fileNameProblem(name: string): string | undefined {
  if (name.includes('/')) return 'must be one name, not a path';
  return relativePathProblem(name);
}

/**
 * Problems of a set of relative paths together: one given twice, or one used both as a file
 * and as a directory of another (`a` and `a/b`), which would overwrite or fail half-way.
 */
export function pathSetProblem(paths: readonly string[]): string | undefined {
  const files = new Set<string>();
  for (const path of paths) {
    if (files.has(path)) return `"${path}" is given twice`;
    files.add(path);
  }
  for (const path of paths) {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i += 1) {
      const parent = segments.slice(0, i).join('/');
      if (files.has(parent)) return `"${parent}" is both a file and the directory of "${path}"`;
    }
  }
  return undefined;
}
