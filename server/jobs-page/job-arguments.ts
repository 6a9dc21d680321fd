/** A call's parts as it was read: the texts of each part (files by their size), whatever they are worth. */
export type CallArguments = Record<string, unknown> | null | undefined;

/** One SOAP part as the jobs page shows it: the full value (for a title) and a short one. */
export interface ShownArgument {
  readonly name: string;
  readonly full: string;
  readonly short: string;
}

/** Deployment calls can carry thousands of store paths; the history keeps a readable start. */
const MAX_ITEMS = 20;
/** No operation has more than five parts; a call with many more is refused anyway. */
const MAX_PARTS = 12;
const MAX_VALUE_CHARS = 2000;

/**
 * A store path's directory and hash say little to a reader and take most of a line:
 * `/nix/store/<32 base-32 chars>-name/bin/x` reads as `…-name/bin/x`. Any directory holding
 * such entries counts (the demo's store is not /nix/store).
 */
const STORE_PREFIX = /(?:\/[^\s/]+)*\/[0-9a-df-np-sv-z]{32}-/g;

export function shortenPaths(text: string): string {
  return text.replace(STORE_PREFIX, '…-');
}

/** The arguments of a call as it was read (strings or lists of strings), in the order the caller sent them. */
export function showArguments(raw: CallArguments): ShownArgument[] {
  if (raw === null || raw === undefined || typeof raw !== 'object') return [];
  const parts = Object.entries(raw);
  const shown = parts.slice(0, MAX_PARTS).map(([name, value]) => {
    const full = clip(itemsOf(value));
    return { name, full, short: shortenPaths(full) };
  });
  if (parts.length > MAX_PARTS) shown.push({ name: '…', full: `${parts.length - MAX_PARTS} more parts`, short: `${parts.length - MAX_PARTS} more parts` });
  return shown;
}

function itemsOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (!Array.isArray(value)) return textOf(value);
  const shown = value.slice(0, MAX_ITEMS).map(textOf);
  if (value.length > MAX_ITEMS) shown.push(`(${value.length - MAX_ITEMS} more)`);
  return shown.join('\n');
}

function textOf(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '(a structure)';
}

function clip(text: string): string {
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}… (${text.length - MAX_VALUE_CHARS} more characters)` : text;
}
