import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getOperation, operationNames } from '../../protocol/operations';

/** Copied next to the compiled code by scripts/copy-assets.js. */
export const STATIC_DIR = join(__dirname, 'static');

/**
 * The page itself, with the parts that need no script filled in on the server: the WSDL link
 * and the operations. Everything inserted is escaped; nothing of a call or a log is.
 */
export function renderPage(wsdlHref: string): string {
  const template = readFileSync(join(STATIC_DIR, 'index.html'), 'utf8');
  const operations = operationNames.map((name) => `<li><code>${escapeHtml(name)}</code> — ${escapeHtml(getOperation(name).summary)}</li>`).join('\n        ');
  return template.replaceAll('{{WSDL_HREF}}', escapeHtml(wsdlHref)).replace('{{OPERATIONS}}', operations);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
