import { type OptionSpec, optionSpecs } from './options';
import { describeDefaultTimeouts } from './job-timeouts';

/** Where descriptions start, and the width of a terminal the text must fit (as the client's). */
const COLUMN = 30;
const WIDTH = 80;

/** The `--help` text, generated from the option table, wrapped to 80 columns. */
export function usageText(): string {
  const specs = Object.values(optionSpecs) as OptionSpec[];
  const flags = specs.filter((spec) => spec.flag !== '').map((spec) => formatEntry(flagLabel(spec), `${spec.help}.${variableNote(spec)}`));
  const envOnly = specs.filter((spec) => spec.flag === '').map((spec) => formatEntry(spec.env!, `${spec.help}.${aliasNote(spec)}`));
  return [
    'Usage: disnix-webservice [OPTION]...',
    '',
    ...wrap(
      'Publishes the Disnix deployment operations of the local disnix-service as a SOAP web service ' +
        '(WSDL at the service path with ?wsdl), relaying each call over D-Bus.',
      WIDTH,
    ),
    '',
    ...wrap(
      'Options; each names its environment variable, and a flag wins over its variable. Yes/no variables take true or false (also 1/0, yes/no, on/off).',
      WIDTH,
    ),
    ...flags,
    '',
    'Environment only:',
    ...envOnly,
    '',
    'Signals:',
    formatEntry('SIGTERM, SIGINT', 'stop taking calls, let calls in flight finish within --shutdown-grace, then exit.'),
    formatEntry('SIGHUP', 'read the --htpasswd file and the --tls-cert/--tls-key files again (a file that fails the checks leaves the old one in force).'),
    '',
    ...wrap(`Default job time limits: ${describeDefaultTimeouts()}.`, WIDTH),
    '',
    ...wrap('Exit status: 0 after a clean stop, 2 for a bad setting, 1 for any other failure to start.', WIDTH),
    '',
  ].join('\n');
}

function flagLabel(spec: OptionSpec): string {
  return `${spec.short ? `-${spec.short}, ` : '    '}--${spec.flag}${spec.value ? ` ${spec.value}` : ''}`;
}

function variableNote(spec: OptionSpec): string {
  return spec.env === undefined ? '' : ` Variable: ${spec.env}.${aliasNote(spec)}`;
}

function aliasNote(spec: OptionSpec): string {
  const aliases = spec.envAliases ?? [];
  return aliases.length === 0 ? '' : ` Also read under its older name ${aliases.join(', ')}.`;
}

/** A label, then its description from COLUMN on; a label too long for that gets a line of its own. */
function formatEntry(label: string, description: string): string {
  const indent = ' '.repeat(COLUMN);
  const lines = wrap(description, WIDTH - COLUMN);
  const first = `  ${label}`;
  const head = first.length < COLUMN - 1 ? `${first.padEnd(COLUMN)}${lines[0]}` : `${first}\n${indent}${lines[0]}`;
  return [head, ...lines.slice(1).map((line) => indent + line)].join('\n');
}

/** Words to lines of at most `width` characters; a single word longer than that stays whole. */
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
