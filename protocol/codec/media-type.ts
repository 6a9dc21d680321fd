/**
 * Content-Type headers of SOAP messages: `text/xml; charset=utf-8` or MTOM's
 * `multipart/related; type="application/xop+xml"; boundary=...; start="<...>"`.
 */
export interface MediaType {
  /** Lower-cased `type/subtype`. */
  readonly type: string;
  /** Parameters by lower-cased name, quotes removed. */
  readonly params: Readonly<Record<string, string>>;
}

const PARAM = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;

export function parseMediaType(header: string | undefined): MediaType {
  const text = header ?? '';
  const semicolon = text.indexOf(';');
  const type = (semicolon < 0 ? text : text.slice(0, semicolon)).trim().toLowerCase();
  const params: Record<string, string> = {};
  if (semicolon >= 0) {
    for (const match of text.slice(semicolon).matchAll(PARAM)) {
      const raw = match[2].trim();
      params[match[1].toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    }
  }
  return { type, params };
}

export function isMultipartRelated(mediaType: MediaType): boolean {
  return mediaType.type === 'multipart/related';
}

export function isXmlText(mediaType: MediaType): boolean {
  return mediaType.type === 'text/xml' || mediaType.type === 'application/soap+xml';
}

/** A Content-ID without its angle brackets: `<a@b>` and the `cid:a@b` of an href name the same part. */
export function bareContentId(value: string): string {
  const trimmed = value.trim();
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed;
}

/** The Content-ID an `xop:Include href="cid:..."` points at (RFC 2392: URL-encoded). */
export function contentIdOfHref(href: string): string | undefined {
  if (!/^cid:/i.test(href)) return undefined;
  try {
    return decodeURIComponent(href.slice(4));
  } catch {
    return href.slice(4);
  }
}

/** Only UTF-8 (and its subset US-ASCII) is read; SOAP stacks send nothing else in practice. */
export function isUtf8(mediaType: MediaType): boolean {
  const charset = (mediaType.params.charset ?? 'utf-8').toLowerCase();
  return charset === 'utf-8' || charset === 'utf8' || charset === 'us-ascii';
}
