// --help text of a benchmark, built from its parseArgs option table: each option carries its
// line of help beside its parse rule (parseArgs ignores the extra `help` field), so the two
// cannot drift apart.

export interface HelpedOption {
  type: 'string' | 'boolean';
  default?: string | boolean;
  help: string;
}

/** `title`, then one line per option: its flag, its default (string options), its help. */
export function helpText(title: string, options: Record<string, HelpedOption>): string {
  return [
    title,
    ...Object.entries(options).map(([name, o]) => {
      const flag = `  --${name}${o.type === 'string' ? ` ${String(o.default)}` : ''}`;
      return flag.padEnd(Math.max(36, flag.length + 2)) + o.help;
    }),
  ].join('\n');
}
