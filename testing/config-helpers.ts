import { ConfigError, type GatewayConfig, parseCommandLine } from '../server/config/config';

/** The configuration a command line and environment give; fails the test on --help/--version. */
export function configFrom(argv: string[], env: NodeJS.ProcessEnv): GatewayConfig {
  const command = parseCommandLine(argv, env);
  if (command.kind !== 'run') throw new Error(`expected a run, got ${command.kind}`);
  return command.config;
}

/** The problems a ConfigError lists; fails the test if the settings were accepted. */
export function configProblems(argv: string[], env: NodeJS.ProcessEnv): readonly string[] {
  try {
    configFrom(argv, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
