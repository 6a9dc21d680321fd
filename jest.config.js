/**
 * Two projects: `unit` (in-process, from the sources, no build needed) mirrors the source tree
 * under tests/unit/; `integration` (tests/integration/) runs the compiled gateway, client and
 * demo daemon as child processes on a private dbus-daemon, so `npm run test:integration` builds
 * first. Both run from the TypeScript sources through swc.
 */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
};

module.exports = {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/tests/unit'], testMatch: ['**/*.test.ts'] },
    { ...shared, displayName: 'integration', roots: ['<rootDir>/tests/integration'], testMatch: ['**/*.test.ts'] },
  ],
  // Most integration tests wait on D-Bus jobs rather than compute: two workers suit two cores.
  // Workers are replaced once they have grown, so that what one file leaves behind cannot slow the next.
  maxWorkers: 2,
  workerIdleMemoryLimit: '400MB',
  testTimeout: 30000,
};
