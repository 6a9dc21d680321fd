import type { Part } from '../protocol/operations';

export const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Sample values (JSON-able), distinct per part so that a part landing in the wrong place shows. */
export function sampleValue(part: Part): string | string[] | boolean | number {
  switch (part.kind) {
    case 'string':
      return `${part.name}-value`;
    case 'strings':
      return [`${part.name}-1`, `${part.name}-2`];
    case 'boolean':
      return true;
    case 'int':
      return 42;
    case 'file':
      return b64(`${part.name} content`);
    case 'files':
      return [b64(`${part.name} content 1`), b64(`${part.name} content 2`)];
  }
}

export function sampleArgs(parts: readonly Part[]): Record<string, unknown> {
  return Object.fromEntries(parts.map((part) => [part.name, sampleValue(part)]));
}
