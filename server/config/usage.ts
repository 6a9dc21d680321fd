import { type CommandManual, helpText } from '../../protocol/command-manual';
import { type OptionSpec, optionSpecs } from './options';
import { describeDefaultTimeouts } from './job-timeouts';

/** The `--help` text: the manual, wrapped to 80 columns. */
export function usageText(): string {
  return helpText(gatewayManual());
}

/** What `--help` and the man page disnix-webservice(8) say, from the option table. */
export function gatewayManual(): CommandManual {
  const specs = Object.values(optionSpecs) as OptionSpec[];
  return {
    name: 'disnix-webservice',
    section: 8,
    summary: 'SOAP web-service gateway to the Disnix deployment daemon',
    synopsis: 'disnix-webservice [OPTION]...',
    description:
      'Publishes the Disnix deployment operations of the local disnix-service as a SOAP web service ' +
      '(WSDL at the service path with ?wsdl), relaying each call over D-Bus.',
    sections: [
      {
        title: 'Options',
        text: 'Each names its environment variable, and a flag wins over its variable. Yes/no variables take true or false (also 1/0, yes/no, on/off).',
        entries: specs.filter((spec) => spec.flag !== '').map((spec) => ({ label: flagLabel(spec), text: `${spec.help}.${variableNote(spec)}` })),
      },
      {
        title: 'Environment only',
        entries: specs.filter((spec) => spec.flag === '').map((spec) => ({ label: spec.env!, text: `${spec.help}.${aliasNote(spec)}` })),
      },
      {
        title: 'Signals',
        entries: [
          { label: 'SIGTERM, SIGINT', text: 'stop taking calls, let calls in flight finish within --shutdown-grace, then exit.' },
          {
            label: 'SIGHUP',
            text: 'read the --htpasswd file and the --tls-cert/--tls-key files again (a file that fails the checks leaves the old one in force).',
          },
        ],
      },
      { title: 'Job time limits', text: `Defaults: ${describeDefaultTimeouts()}.` },
      { title: 'Exit status', text: '0 after a clean stop, 2 for a bad setting, 1 for any other failure to start.' },
    ],
  };
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
