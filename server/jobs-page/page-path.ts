/**
 * Where the jobs page lives, from the SOAP service's path: the original DisnixWebService is a
 * web application at `/<app>/services/<Service>`, so the page is the application's root
 * (`/DisnixWebService/`); any other path gets the page in its parent directory (`/a/soap` ->
 * `/a/`, `/soap` -> `/`). Always ends with a slash, so that the page's relative links work,
 * also behind a proxy that adds a prefix.
 */
export function jobsPagePath(servicePath: string): string {
  const services = /^(.*\/)services\/[^/]+\/?$/.exec(servicePath);
  if (services) return services[1];
  const trimmed = servicePath.replace(/\/+$/, '');
  return trimmed.slice(0, trimmed.lastIndexOf('/') + 1) || '/';
}

/** The service path relative to the page, for links that survive a prefixing proxy. */
export function relativeToPage(pagePath: string, servicePath: string): string {
  return servicePath.startsWith(pagePath) ? servicePath.slice(pagePath.length) : servicePath;
}
