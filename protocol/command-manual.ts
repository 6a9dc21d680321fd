/**
 * A command's documentation as data, rendered two ways: `--help` (80 columns) and a man page
 * (roff, for `man`). Both commands build theirs from their option tables, so that help and man
 * page always list the same options.
 */
export interface ManualEntry {
  /** What is typed: `-p, --profile=PROFILE`, or a variable's name. */
  readonly label: string;
  readonly text: string;
}

export interface ManualSection {
  readonly title: string;
  /** A paragraph before the entries. */
  readonly text?: string;
  readonly entries?: readonly ManualEntry[];
}

export interface CommandManual {
  readonly name: string;
  /** 1 for user commands, 8 for system administration (daemons). */
  readonly section: 1 | 8;
  /** One line, for the man page's NAME. */
  readonly summary: string;
  /** What follows `Usage:` */
  readonly synopsis: string;
  readonly description: string;
  readonly sections: readonly ManualSection[];
}

/** Where descriptions start, and the width of a terminal the text must fit. */
const COLUMN = 30;
const WIDTH = 80;

export function helpText(manual: CommandManual): string {
  const lines = [`Usage: ${manual.synopsis}`, '', ...wrap(manual.description, WIDTH), ''];
  for (const section of manual.sections) {
    lines.push(`${section.title}:`);
    if (section.text !== undefined) lines.push(...wrap(section.text, WIDTH));
    lines.push(...(section.entries ?? []).map((entry) => formatEntry(entry.label, entry.text)), '');
  }
  return lines.join('\n');
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

/** The man page, in the `man` macros of roff. */
export function manPage(manual: CommandManual, version: string, date: string): string {
  const lines = [
    `.TH ${roff(manual.name.toUpperCase())} ${manual.section} "${date}" "disnix-webservice ${roff(version)}" "${manual.section === 1 ? 'User Commands' : 'System Administration'}"`,
    // No hyphenation: option names and variables must read as typed.
    '.nh',
    '.SH NAME',
    `${roff(manual.name)} \\- ${roff(manual.summary)}`,
    '.SH SYNOPSIS',
    `.B ${roff(manual.name)}`,
    roff(manual.synopsis.slice(manual.synopsis.indexOf(' ') + 1)),
    '.SH DESCRIPTION',
    roff(manual.description),
  ];
  for (const section of manual.sections) {
    lines.push(`.SH ${roff(section.title.toUpperCase())}`);
    if (section.text !== undefined) lines.push(roff(section.text));
    for (const entry of section.entries ?? []) lines.push('.TP', `.B ${roff(entry.label)}`, roff(entry.text));
  }
  return `${lines.join('\n')}\n`;
}

/** Text as roff reads it literally: backslashes and hyphens escaped, no line taken for a request. */
function roff(text: string): string {
  const escaped = text.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}
