/**
 * Command-line flags of `npm run bench[:<scenario>] -- --name value`. A flag may be scoped to one
 * scenario as `--<scenario>.<name>` (e.g. `--history.concurrency 1,4`), which wins over the plain
 * `--<name>` when that scenario reads it. `--quick` switches every default to a tiny smoke size.
 */
export class Flags {
  private constructor(
    /** Positional arguments (the scenario names). */
    readonly positional: string[],
    private readonly values: Map<string, string>,
    private readonly scope: string | null,
  ) {}

  /**
   * Parses `--name value`, `--name=value` and bare `--name` (true); anything else is positional.
   * Not `node:util` `parseArgs`: with `strict: false` it reads `--name value` of an undeclared
   * option as a boolean and a positional, and a declared string option swallows a following `--flag`.
   */
  static parse(argv: readonly string[]): Flags {
    const positional: string[] = [];
    const values = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (!arg.startsWith('--')) {
        positional.push(arg);
        continue;
      }
      const eq = arg.indexOf('=');
      if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) values.set(arg.slice(2), argv[++i]);
      else values.set(arg.slice(2), 'true');
    }
    return new Flags(positional, values, null);
  }

  /** The same flags as seen by one scenario (its scoped flags first). */
  forScenario(scenario: string): Flags {
    return new Flags(this.positional, this.values, scenario);
  }

  /** `true` with `--quick`: tiny sizes for a smoke run. */
  get quick(): boolean {
    return this.bool('quick');
  }

  /** The raw value of a flag, or undefined. */
  get(name: string): string | undefined {
    return (this.scope ? this.values.get(`${this.scope}.${name}`) : undefined) ?? this.values.get(name);
  }

  /** `true` when given without a value or as true/1/yes. */
  bool(name: string): boolean {
    const v = this.get(name);
    return v !== undefined && ['true', '1', 'yes', ''].includes(v);
  }

  /**
   * A number flag.
   * @param normal - the default of a full run.
   * @param quick - the default with `--quick` (normal when omitted).
   * @throws Error when the value is not a number.
   */
  number(name: string, normal: number, quick = normal): number {
    const v = this.get(name);
    if (v === undefined) return this.quick ? quick : normal;
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
    return n;
  }

  /** A comma-separated list of numbers (e.g. `--concurrency 16,64`). */
  numbers(name: string, normal: number[], quick = normal): number[] {
    const v = this.get(name);
    if (v === undefined) return this.quick ? quick : normal;
    const list = v.split(',').map((s) => Number(s.trim().replace(/_/g, '')));
    if (list.some((n) => !Number.isFinite(n)))
      throw new Error(`--${name} must be numbers separated by commas, got ${JSON.stringify(v)}`);
    return list;
  }

  /** A comma-separated list of words. */
  words(name: string, normal: string[]): string[] {
    const v = this.get(name);
    return v === undefined
      ? normal
      : v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  }

  /** Every flag given, for the result file. */
  toJSON(): Record<string, string> {
    return Object.fromEntries(this.values);
  }
}
