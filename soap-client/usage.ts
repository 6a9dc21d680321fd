import { getOperation, operationNames, type CliValueOption, type Operation } from '../protocol/operations';
import { type CommandManual, helpText } from '../protocol/command-manual';
import { generalOptions, operationShortFlags, SHELL_FLAG, valueOptions, type OptionSpec } from './cli';

// --version has a module of its own, which needs neither the manual nor the option tables.
export { versionText } from './version';

/** The `--help` text: the manual, wrapped to 80 columns. */
export function usageText(): string {
  return helpText(clientManual());
}

/** What `--help` and the man page disnix-soap-client(1) say, from the operations and option tables. */
export function clientManual(): CommandManual {
  const operationEntries = operationNames.flatMap((name) => {
    const operation = getOperation(name);
    if (operation.cli === undefined) return [];
    const { flag, transfer } = operation.cli;
    return [{ label: `${shortPrefix(operationShortFlags[flag])}--${flag}${transfer ? ` --${transfer}` : ''}${pathHint(operation)}`, text: operation.summary }];
  });
  return {
    name: 'disnix-soap-client',
    section: 1,
    summary: 'run one Disnix deployment operation on a target through its disnix-webservice gateway',
    synopsis: 'disnix-soap-client --target URL OPERATION [OPTION]... [PATH]...',
    description:
      'Runs one Disnix deployment operation on a target machine through its disnix-webservice SOAP ' +
      'gateway. The Disnix tools run it for every remote step when DISNIX_CLIENT_INTERFACE=disnix-soap-client ' +
      'and DISNIX_TARGET_PROPERTY=targetEPR. Results go to stdout, one per line; messages go to stderr.',
    sections: [
      {
        title: 'Operations (exactly one)',
        entries: [
          ...operationEntries,
          { label: `${shortPrefix(undefined)}--${SHELL_FLAG}`, text: 'Not available over SOAP; use disnix-ssh-client for shell sessions' },
        ],
      },
      {
        title: 'Options of the operations',
        entries: (Object.keys(valueOptions) as CliValueOption[]).map((option) => ({
          label: optionLabel(valueOptions[option]),
          text: `${valueOptions[option].description}. Used by ${usersOf(option)}`,
        })),
      },
      { title: 'General options', entries: generalOptions.map((spec) => ({ label: optionLabel(spec), text: spec.description })) },
      {
        title: 'Environment',
        text:
          'Credentials may also be given in the target URL, http://USER:PASSWORD@HOST:PORT/... (percent-encoded); ' +
          'the variables take precedence, each part on its own.',
        entries: [
          { label: 'DISNIX_PROFILE', text: 'Default for --profile' },
          { label: 'DISNIX_SOAP_CLIENT_USERNAME', text: 'User name for HTTP basic authentication' },
          { label: 'DISNIX_SOAP_CLIENT_PASSWORD', text: 'Password for HTTP basic authentication' },
          { label: 'DISNIX_SOAP_CLIENT_PASSWORD_FILE', text: 'File whose first line is the password, instead of DISNIX_SOAP_CLIENT_PASSWORD' },
          { label: 'DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT', text: 'Default for --connect-timeout' },
          { label: 'DISNIX_SOAP_CLIENT_IDLE_TIMEOUT', text: 'Default for --idle-timeout' },
          { label: 'DISNIX_SOAP_CLIENT_COMPRESS', text: 'Default for --compress' },
          { label: 'NODE_EXTRA_CA_CERTS', text: 'PEM file of extra CAs to trust for https:// targets' },
        ],
      },
      { title: 'Exit status', text: '0 on success, 1 on any failure (the message is on stderr).' },
    ],
  };
}

function shortPrefix(short: string | undefined): string {
  return short ? `-${short}, ` : '    ';
}

function optionLabel(spec: OptionSpec): string {
  return `${shortPrefix(spec.short)}--${spec.flag}${spec.placeholder ? `=${spec.placeholder}` : ''}`;
}

function pathHint(operation: Operation): string {
  const sources = new Set(operation.params.map((part) => part.cli?.from));
  if (sources.has('paths')) return ' PATH...';
  if (sources.has('localFiles')) return ' FILE';
  return sources.has('path') ? ' PATH' : '';
}

function usersOf(option: CliValueOption): string {
  const flags = operationNames.flatMap((name) => {
    const operation = getOperation(name);
    const uses = operation.params.some((part) => part.cli?.from === 'option' && part.cli.option === option);
    return uses && operation.cli ? [`--${operation.cli.flag}`] : [];
  });
  return [...new Set(flags)].join(', ');
}
