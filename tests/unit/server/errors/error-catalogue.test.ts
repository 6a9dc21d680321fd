import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError, errorCodes, faultFor } from '../../../../server/errors/error-catalogue';
import { PROJECT_ROOT } from '../../../../testing/paths';

/** The rows of README's "Errors" table: code, faultcode, HTTP status. */
function readmeErrors(): [string, string, number][] {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Errors\n'), readme.indexOf('\n## ', readme.indexOf('\n## Errors\n') + 1));
  return [...section.matchAll(/^\| `(GW_ERR_\w+)` \| `(\w+)` \| (\d{3}) \|/gm)].map(([, code, faultcode, status]) => [code, faultcode, Number(status)]);
}

test("the catalogue and README's list of errors name the same codes, faultcodes and HTTP statuses", () => {
  const listed = readmeErrors();
  expect(listed.length).toBeGreaterThan(0);
  expect(listed).toEqual(Object.entries(errorCodes).map(([code, { faultcode, status }]) => [code, faultcode, status]));
});

describe('faultFor, the one mapping of an error to its Fault', () => {
  test('takes faultcode and status from the catalogue, and the message as it is', () => {
    expect(faultFor(new GatewayError('GW_ERR_TOO_LARGE', 'too big'))).toEqual({ faultcode: 'soap:Client', faultstring: 'too big', status: 413 });
    expect(faultFor(new GatewayError('GW_ERR_SHUTTING_DOWN', 'bye'))).toEqual({ faultcode: 'soap:Server', faultstring: 'bye', status: 503 });
  });

  test('the Java client positional form gets every Fault with HTTP 500, as the original service sent them', () => {
    expect(faultFor(new GatewayError('GW_ERR_UNREADABLE', 'x'), 'positional').status).toBe(500);
    expect(faultFor(new GatewayError('GW_ERR_SHUTTING_DOWN', 'x'), 'positional').status).toBe(500);
  });

  test('anything else is an internal error whose details stay in the log', () => {
    expect(faultFor(new Error('secret path /etc/x'))).toEqual({
      faultcode: 'soap:Server',
      faultstring: 'internal error in the gateway; its log has the details',
      status: 500,
    });
  });
});
