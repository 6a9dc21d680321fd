/** Tests run from the TypeScript sources through swc; child processes (the demo daemon, the
 * gateway, the client) run from dist/, which `npm test` builds first. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testTimeout: 30000,
};
