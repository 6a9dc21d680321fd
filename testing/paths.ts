import { join } from 'node:path';
import { projectRoot } from '../demo/project-root';

/** Where things are, for tests run from the sources (jest, through swc) and for the test support compiled into dist-dev/ alike. */

export const PROJECT_ROOT = projectRoot();
/** What ships: the product's build (`npm run build`). */
export const PRODUCT_DIR = join(PROJECT_ROOT, 'dist');
/** The demo, the test support and the bench, compiled apart from the product (`npm run build:dev`). */
export const DEV_DIR = join(PROJECT_ROOT, 'dist-dev');
export const GATEWAY_MAIN = join(PRODUCT_DIR, 'server', 'main.js');
export const CLIENT_MAIN = join(PRODUCT_DIR, 'soap-client', 'main.js');
export const FIXTURES_DIR = join(PROJECT_ROOT, 'tests', 'fixtures');
export const ZEEP_CLIENT = join(PROJECT_ROOT, 'testing', 'zeep-client.py');
export const WSDL_FILE = join(PROJECT_ROOT, 'wsdl', 'DisnixWebService.wsdl');
