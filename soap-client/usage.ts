import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getOperation, operationNames, type CliValueOption, type Operation } from '../protocol/operations';
import { generalOptions, operationShortFlags, SHELL_FLAG, valueOptions, type OptionSpec } from './cli';

const COLUMN = 30;
const WIDTH = 80;

/** The `--help` text, generated from the operations table. */
export function usageText(): string {
  const operationLines = operationNames.flatMap((name) => {
    const operation = getOperation(name);
    if (operation.cli === undefined) return [];
    const { flag, transfer } = operation.cli;
    const label = `${shortPrefix(operationShortFlags[flag])}--${flag}${transfer ? ` --${transfer}` : ''}${pathHint(operation)}`;
    return [formatEntry(label, operation.summary)];
  });
  return [
    'Usage: disnix-soap-client --target URL OPERATION [OPTION]... [PATH]...',
    '',
    ...wrap(
      'Runs one Disnix deployment operation on a target machine through its disnix-webservice SOAP ' +
        'gateway. The Disnix tools run it for every remote step when DISNIX_CLIENT_INTERFACE=disnix-soap-client ' +
        'and DISNIX_TARGET_PROPERTY=targetEPR. Results go to stdout, one per line; messages go to stderr.',
      WIDTH,
    ),
    '',
    'Operations (exactly one):',
    ...operationLines,
    formatEntry(`${shortPrefix(undefined)}--${SHELL_FLAG}`, 'Not available over SOAP; use disnix-ssh-client for shell sessions'),
    '',
    'Options of the operations:',
    ...(Object.keys(valueOptions) as CliValueOption[]).map((option) =>
      formatEntry(optionLabel(valueOptions[option]), `${valueOptions[option].description}. Used by ${usersOf(option)}`),
    ),
    '',
    'General options:',
    ...generalOptions.map((spec) => formatEntry(optionLabel(spec), spec.description)),
    '',
    'Environment:',
    formatEntry('DISNIX_PROFILE', 'Default for --profile'),
    formatEntry('DISNIX_SOAP_CLIENT_USERNAME', 'User name for HTTP basic authentication'),
    formatEntry('DISNIX_SOAP_CLIENT_PASSWORD', 'Password for HTTP basic authentication'),
    formatEntry('DISNIX_SOAP_CLIENT_PASSWORD_FILE', 'File whose first line is the password, instead of DISNIX_SOAP_CLIENT_PASSWORD'),
    formatEntry('DISNIX_SOAP_CLIENT_CONNECT_TIMEOUT', 'Default for --connect-timeout'),
    formatEntry('DISNIX_SOAP_CLIENT_IDLE_TIMEOUT', 'Default for --idle-timeout'),
    formatEntry('NODE_EXTRA_CA_CERTS', 'PEM file of extra CAs to trust for https:// targets'),
    '',
    ...wrap(
      'Credentials may also be given in the target URL, http://USER:PASSWORD@HOST:PORT/... (percent-encoded); ' +
        'the variables take precedence, each part on its own.',
      WIDTH,
    ),
    '',
    'Exit status: 0 on success, 1 on any failure (the message is on stderr).',
    '',
  ].join('\n');
}

/** The `--version` text. */
export function versionText(): string {
  return `disnix-soap-client (disnix-webservice ${readVersion()})\n`;
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

function formatEntry(label: string, description: string): string {
  const indent = ' '.repeat(COLUMN);
  const lines = wrap(description, WIDTH - COLUMN);
  const first = `  ${label}`;
  const head = first.length < COLUMN - 1 ? `${first.padEnd(COLUMN)}${lines[0]}` : `${first}\n${indent}${lines[0]}`;
  return [head, ...lines.slice(1).map((line) => indent + line)].join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

/** Reads the version from the project's package.json, above both the sources and dist/. */
function readVersion(): string {
  for (let directory = __dirname; ; directory = dirname(directory)) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'disnix-webservice' && manifest.version) return manifest.version;
    } catch {
      // not here: look in the parent directory
    }
    if (dirname(directory) === directory) return 'unknown';
  }
}
