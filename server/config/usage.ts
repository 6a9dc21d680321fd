import { type OptionSpec, optionSpecs } from './options';
import { describeDefaultTimeouts } from './job-timeouts';

export function usageText(): string {
  const specs = Object.values(optionSpecs) as OptionSpec[];
  const flags = specs
    .filter((spec) => spec.flag !== '')
    .map((spec) => {
      const left = `  --${spec.flag}${spec.value ? ` ${spec.value}` : ''}`;
      const env = spec.env ? ` [${spec.env}]` : '';
      return `${left.padEnd(30)} ${spec.help}${env}`;
    });
  const envOnly = specs.filter((spec) => spec.flag === '').map((spec) => `  ${spec.env!.padEnd(29)} ${spec.help}`);
  return [
    'Usage: disnix-webservice [OPTION]...',
    '',
    'Publishes the Disnix deployment operations of the local disnix-service as a SOAP web',
    'service (WSDL at the service path with ?wsdl), relaying each call over D-Bus.',
    '',
    'Options (each with the environment variable in brackets; a flag wins over its variable):',
    ...flags,
    '',
    'Environment only:',
    ...envOnly,
    '',
    `Default job time limits: ${describeDefaultTimeouts()}.`,
    '',
  ].join('\n');
}
