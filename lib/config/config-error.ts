/** One problem found in the configuration: which field, what it holds, and what would be accepted. */
export interface ConfigProblem {
  /** Dotted path of the field, e.g. `prod.regions[1].vpcCidr` or the context key `-c env`. */
  readonly field: string;
  /** The offending value, as given. */
  readonly value: unknown;
  /** What is allowed instead. */
  readonly allowed: string;
}

/** Thrown once with every configuration problem; `bin/` prints `message` alone (no stack) and exits 1. */
export class ConfigValidationError extends Error {
  constructor(public readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid ConnectHub configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.field} = ${JSON.stringify(p.value)}: ${p.allowed}`).join('\n'),
    );
    this.name = 'ConfigValidationError';
  }
}
