// Server metrics in the Prometheus text exposition format (version 0.0.4): counters that only
// grow, gauges read at scrape time. Kept dependency-free: a handful of numbers and labels.

type Labels = Readonly<Record<string, string>>;

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  /** label set (serialized) → value */
  values: Map<string, number>;
  /** For gauges read live at scrape time. */
  read?: () => number;
}

export class Metrics {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): void {
    this.families.set(name, { help, type: 'counter', values: new Map() });
  }

  /** A gauge whose value is read when /metrics is scraped. */
  gauge(name: string, help: string, read: () => number): void {
    this.families.set(name, { help, type: 'gauge', values: new Map(), read });
  }

  /** A counter kept elsewhere (e.g. by the state cache), read when /metrics is scraped. */
  counterFrom(name: string, help: string, read: () => number): void {
    this.families.set(name, { help, type: 'counter', values: new Map(), read });
  }

  inc(name: string, by = 1, labels: Labels = {}): void {
    const family = this.families.get(name);
    if (!family || family.type !== 'counter' || family.read)
      throw new Error(`no counter named ${name}`);
    const key = serializeLabels(labels);
    family.values.set(key, (family.values.get(key) ?? 0) + by);
  }

  /** Current value of a counter (summed over label sets matching `labels`), for logs and tests. */
  value(name: string, labels: Labels = {}): number {
    const family = this.families.get(name);
    if (!family) throw new Error(`no metric named ${name}`);
    if (family.read) return family.read();
    let sum = 0;
    const want = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    for (const [key, v] of family.values) if (want.every((w) => key.includes(w))) sum += v;
    return sum;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      if (f.read) lines.push(`${name} ${formatNumber(f.read())}`);
      else if (f.values.size === 0) lines.push(`${name} 0`);
      else for (const [key, v] of f.values) lines.push(`${name}${key} ${formatNumber(v)}`);
    }
    return lines.join('\n') + '\n';
  }
}

function serializeLabels(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
