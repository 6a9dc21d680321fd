/**
 * The layout's import rules, read from the sources: the folders of the shipped code (protocol/,
 * server/, soap-client/) do not import each other in a circle, the client and the protocol do not
 * reach into the gateway, and no shipped code imports the demo, the test support, the bench or the
 * tests. A folder is a file's directory (server/http, server/config); a file directly in server/
 * belongs to the folder `server`. Every import counts: `import type`, `export ... from`, `import()`
 * and `require()`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';
import { PROJECT_ROOT } from '../../testing/paths';

/** Where the shipped code lives: every .ts file under these is read. */
const SHIPPED_ROOTS = ['protocol', 'server', 'soap-client'];

/** What each top-level folder must not import (a target is named by its first path segment). */
const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  protocol: ['server', 'soap-client', 'demo', 'testing', 'bench', 'tests'],
  'soap-client': ['server', 'demo', 'testing', 'bench', 'tests'],
  server: ['demo', 'testing', 'bench', 'tests'],
};

interface Import {
  /** The importing file and line, relative to the project root: `server/http/basic-auth.ts:3`. */
  at: string;
  fromFolder: string;
  specifier: string;
  /** The imported file's folder, relative to the project root ('.' for a file at the root). */
  toFolder: string;
  toFile: string;
}

const toPosix = (path: string) => path.split(sep).join('/');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.isFile() && entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The module specifiers a file names, with their lines: static imports and re-exports, import types, import() and require(). */
function specifiersOf(file: string): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ specifier: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))
    ) {
      add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The file a relative specifier names, as TypeScript's node resolution finds it. */
function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [`${base}.ts`, base, join(base, 'index.ts')];
  return candidates.find((path) => existsSync(path) && statSync(path).isFile());
}

function readImports(): { imports: Import[]; unresolved: string[] } {
  const imports: Import[] = [];
  const unresolved: string[] = [];
  for (const root of SHIPPED_ROOTS) {
    for (const file of tsFiles(join(PROJECT_ROOT, root))) {
      const fromFile = toPosix(relative(PROJECT_ROOT, file));
      for (const { specifier, line } of specifiersOf(file)) {
        if (!specifier.startsWith('.')) continue; // a package or a node: builtin
        const target = resolveRelative(file, specifier);
        // A path for the compiled file rather than the source (server/main.ts reads ../../package.json from dist/server/).
        if (relative(PROJECT_ROOT, resolve(dirname(file), specifier)).startsWith('..')) continue;
        if (target === undefined) {
          unresolved.push(`${fromFile}:${line} '${specifier}'`);
          continue;
        }
        const toFile = toPosix(relative(PROJECT_ROOT, target));
        imports.push({ at: `${fromFile}:${line}`, fromFolder: toPosix(dirname(fromFile)), specifier, toFolder: toPosix(dirname(toFile)), toFile });
      }
    }
  }
  return { imports, unresolved };
}

/** The strongly connected components of more than one folder (Tarjan), each sorted. */
function folderCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (folder: string): void => {
    index.set(folder, next);
    low.set(folder, next);
    next += 1;
    stack.push(folder);
    onStack.add(folder);
    for (const to of edges.get(folder) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(folder, Math.min(low.get(folder) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(folder, Math.min(low.get(folder) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(folder) === index.get(folder)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== folder);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const folder of [...edges.keys()].sort()) if (!index.has(folder)) connect(folder);
  return components.sort((a, b) => a.join().localeCompare(b.join()));
}

/** One circle through a component, `a -> b -> a`, then every import between its folders: the ones to cut. */
function describeCycle(component: readonly string[], imports: readonly Import[]): string {
  const members = new Set(component);
  const inside = imports.filter((imp) => imp.fromFolder !== imp.toFolder && members.has(imp.fromFolder) && members.has(imp.toFolder));
  const path: string[] = [component[0]];
  // Every folder of a component imports another of it, so the walk comes round to a folder it has seen.
  for (;;) {
    const next = inside.find((imp) => imp.fromFolder === path[path.length - 1])?.toFolder;
    if (next === undefined) break;
    const seen = path.indexOf(next);
    path.push(next);
    if (seen >= 0) {
      path.splice(0, seen);
      break;
    }
  }
  const steps = inside.map((imp) => `    ${imp.fromFolder} -> ${imp.toFolder}: ${imp.at} imports ${imp.toFile}`);
  return `  ${path.join(' -> ')}\n${steps.join('\n')}`;
}

describe('layout: imports between folders', () => {
  const { imports, unresolved } = readImports();

  test('every relative import names a file', () => {
    expect(imports.length).toBeGreaterThan(100); // the scan found the sources
    expect(unresolved).toEqual([]);
  });

  test('the folders of protocol/, server/ and soap-client/ do not import each other in a circle', () => {
    const edges = new Map<string, Set<string>>();
    for (const { fromFolder, toFolder } of imports) {
      if (fromFolder === toFolder) continue;
      if (!edges.has(fromFolder)) edges.set(fromFolder, new Set());
      edges.get(fromFolder)?.add(toFolder);
    }
    const problems = folderCycles(edges).map((cycle) => `import cycle between folders ${cycle.join(', ')}:\n${describeCycle(cycle, imports)}`);
    if (problems.length > 0) throw new Error(problems.join('\n\n'));
  });

  test.each(Object.entries(FORBIDDEN))('nothing in %s/ imports %p', (root, forbidden) => {
    const offending = imports
      .filter((imp) => imp.fromFolder.split('/')[0] === root && forbidden.includes(imp.toFile.split('/')[0]))
      .map((imp) => `${imp.at} imports '${imp.specifier}' (${imp.toFile})`);
    expect(offending).toEqual([]);
  });
});
