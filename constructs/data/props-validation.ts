/**
 * Collects every problem found in a construct's props and throws them together as ONE error,
 * so a caller fixes all of them in one pass. Values that are deploy-time tokens are skipped by
 * the callers (`Token.isUnresolved`), because they cannot be checked at synth.
 */
import { Duration, Token } from 'aws-cdk-lib';

export class PropsProblems {
  private readonly problems: string[] = [];

  /** @param subject what is being configured, e.g. `AuroraGlobalPrimary "Aurora"` */
  constructor(private readonly subject: string) {}

  /** Records a problem: the field, the value given, and what is allowed. */
  add(field: string, value: unknown, allowed: string): void {
    this.problems.push(`${field} = ${show(value)}: ${allowed}`);
  }

  /** Records a problem unless `ok` holds. */
  check(ok: boolean, field: string, value: unknown, allowed: string): void {
    if (!ok) this.add(field, value, allowed);
  }

  /** Checks an optional integer lies in [min, max] (skips undefined and tokens). */
  integerInRange(field: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    this.check(Number.isInteger(value) && value >= min && value <= max, field, value, `an integer from ${min} to ${max}`);
  }

  /** Throws one error listing every recorded problem (no-op when there are none). */
  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const error = new Error(`Invalid props for ${this.subject}:\n  - ${this.problems.join('\n  - ')}`);
    // The message is the report; a stack trace pointing into this helper adds nothing.
    error.stack = error.message;
    throw error;
  }
}

function show(value: unknown): string {
  if (value instanceof Duration) return value.toHumanString();
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  return String(value);
}

/** AWS resource identifier rule shared by RDS clusters and global clusters. */
export const RDS_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/;
