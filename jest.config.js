/** Tests run from the TypeScript sources through swc; child processes (the demo daemon, the
 * gateway, the client) run from dist/, which `npm test` builds first. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testTimeout: 30000,
  // Test files run in worker processes that are replaced once they have grown, never all in
  // one process: on a 2-core machine jest would otherwise run a fresh clone's files in band,
  // where what one file leaves behind (sockets, timers) slows the next and keeps jest alive.
  // Most tests wait on D-Bus jobs rather than compute, so two workers suit two cores.
  maxWorkers: 2,
  workerIdleMemoryLimit: '400MB',
};
