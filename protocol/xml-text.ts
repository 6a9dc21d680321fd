/** Text as XML element content and attribute values carry it: the one escaping of the gateway, the client and the WSDL generator. */

/** Characters XML 1.0 cannot carry at all, not even escaped. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's purpose
const NOT_IN_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
const NOT_IN_XML_GLOBAL = new RegExp(NOT_IN_XML.source, 'g');
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A literal carriage return would be read back as a line feed.
  '\r': '&#13;',
};

export class XmlTextError extends Error {
  override readonly name = 'XmlTextError';
}

/** Escapes text for element content; refuses what XML cannot carry, so a value never arrives changed. */
export function escapeXml(text: string): string {
  if (NOT_IN_XML.test(text)) throw new XmlTextError(`cannot send ${JSON.stringify(text)}: XML cannot carry its control characters`);
  return text.replace(/[&<>"'\r]/g, (character) => ESCAPES[character]);
}

/**
 * The same for text the sender did not choose (a job's log, with a build's terminal colours):
 * what XML cannot carry becomes U+FFFD rather than making the whole message unreadable.
 */
export function escapeXmlLossy(text: string): string {
  return escapeXml(text.replace(NOT_IN_XML_GLOBAL, '\ufffd'));
}
