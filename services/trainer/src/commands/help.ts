import type { Command, OptionSpec } from './command.js';

export const PROGRAM = 'fallback-ctr-trainer';

const HELP_OPTION: OptionSpec<boolean> = { short: 'h', description: 'this text', read: (given) => given === true };

const optionLabel = (name: string, o: OptionSpec<unknown>) =>
  `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;

/** `rollback [--to-version N]`; a command with more than two options shows `[options]`. */
export function synopsis(command: Command): string {
  const names = Object.entries(command.options);
  if (names.length === 0) return command.name;
  if (names.length > 2) return `${command.name} [options]`;
  return `${command.name} ${names.map(([name, o]) => `[--${name}${o.value ? ` ${o.value}` : ''}]`).join(' ')}`;
}

export function commandHelp(command: Command): string {
  const options = [...Object.entries(command.options), ['help', HELP_OPTION] as const];
  const labels = options.map(([name, o]) => optionLabel(name, o));
  const width = Math.max(...labels.map((l) => l.length)) + 3;
  return [
    `Usage: ${PROGRAM} ${synopsis(command)}`,
    '',
    command.description,
    '',
    'Options:',
    ...options.map(([, o], i) => `  ${labels[i]!.padEnd(width)}${o.description}`),
  ].join('\n');
}

export function programHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => synopsis(c).length)) + 3;
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${synopsis(c).padEnd(width)}${c.summary}`),
    '',
    'Every command takes --help. Configuration comes from environment variables (see the README).',
    'Exit codes: 0 ok (also a clean gate FAIL), 1 error, 2 usage or configuration, 3 rollout failed',
    'and was rolled back, 143 interrupted.',
  ].join('\n');
}

/** The README's command table: each command's synopsis and description. */
export function commandTable(commands: readonly Command[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  return [
    '| command | what it does |',
    '|---|---|',
    ...commands.map((c) => `| \`${synopsis(c)}\` | ${cell(c.description)} |`),
  ].join('\n');
}
