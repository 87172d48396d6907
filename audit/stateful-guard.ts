/**
 * The stateful-resource guard: a committed baseline of every stateful resource (stack, logical id, type) per
 * environment, and the comparison that tells which change would make CloudFormation delete or replace one:
 * removed (gone from its stack), renamed (its logical id changed: CloudFormation creates the new one and deletes the
 * old), retyped (same logical id, another type: replaced). New stateful resources are additions that the baseline
 * must take in, so that it stays complete.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AssemblyStack, sortedResources } from './cloud-assembly';
import { compare, isStatefulType } from './stateful-resources';

/** Where the committed baselines live: `audit/baseline/<env>.json`. */
export const BASELINE_DIR = path.join(__dirname, 'baseline');

/** The environments with a committed baseline: the long-lived ones, which updates must never cost data. */
export const BASELINED_ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;

/** The command that rewrites the baselines (documented in docs/audit-and-delivery.md). */
export const BASELINE_UPDATE_COMMAND = 'npm run baseline:update';

/** One stateful resource in a baseline. */
export interface BaselineEntry {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
}

/** The committed baseline of one environment. */
export interface StatefulBaseline {
  readonly environment: string;
  readonly resources: BaselineEntry[];
}

export type GuardChange =
  | { readonly kind: 'removed'; readonly before: BaselineEntry }
  | { readonly kind: 'renamed'; readonly before: BaselineEntry; readonly after: BaselineEntry }
  | { readonly kind: 'retyped'; readonly before: BaselineEntry; readonly after: BaselineEntry }
  | { readonly kind: 'added'; readonly after: BaselineEntry };

const key = (e: BaselineEntry) => `${e.stack}\u0000${e.logicalId}`;
const sortEntries = (entries: BaselineEntry[]) =>
  [...entries].sort((a, b) => compare(a.stack, b.stack) || compare(a.logicalId, b.logicalId) || compare(a.type, b.type));

/** The stateful resources of an environment's stacks, as baseline entries (sorted). */
export function baselineEntries(stacks: readonly AssemblyStack[]): BaselineEntry[] {
  const entries: BaselineEntry[] = [];
  for (const stack of stacks) {
    for (const [logicalId, r] of sortedResources(stack.template)) {
      if (isStatefulType(r.Type)) entries.push({ stack: stack.stackName, logicalId, type: r.Type });
    }
  }
  return sortEntries(entries);
}

/** A baseline document for an environment. */
export function createBaseline(environment: string, stacks: readonly AssemblyStack[]): StatefulBaseline {
  return { environment, resources: baselineEntries(stacks) };
}

/** The part of a logical id CDK derives from the construct path: without the 8-hex-digit hash suffix. */
function stem(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Compares a baseline with the current entries. A baselined resource that is gone is `renamed` when its stack gained
 * a new, unbaselined resource of the same type (paired by the most similar logical id), else `removed`; one whose
 * logical id now has another type is `retyped`; whatever else is new is `added`. Sorted: removed, renamed, retyped,
 * added, each by stack and logical id.
 */
export function compareWithBaseline(baseline: readonly BaselineEntry[], current: readonly BaselineEntry[]): GuardChange[] {
  const currentByKey = new Map(current.map((e) => [key(e), e]));
  const baselineKeys = new Set(baseline.map(key));
  const changes: GuardChange[] = [];
  const missing: BaselineEntry[] = [];
  for (const before of sortEntries([...baseline])) {
    const now = currentByKey.get(key(before));
    if (!now) missing.push(before);
    else if (now.type !== before.type) changes.push({ kind: 'retyped', before, after: now });
  }
  const fresh = sortEntries(current.filter((e) => !baselineKeys.has(key(e))));
  const paired = new Set<BaselineEntry>();
  for (const before of missing) {
    const candidates = fresh.filter((e) => !paired.has(e) && e.stack === before.stack && e.type === before.type);
    if (candidates.length === 0) {
      changes.push({ kind: 'removed', before });
      continue;
    }
    const best = candidates.reduce((a, b) => (commonPrefix(stem(b.logicalId), stem(before.logicalId)) > commonPrefix(stem(a.logicalId), stem(before.logicalId)) ? b : a));
    paired.add(best);
    changes.push({ kind: 'renamed', before, after: best });
  }
  for (const after of fresh) if (!paired.has(after)) changes.push({ kind: 'added', after });
  const order = { removed: 0, renamed: 1, retyped: 2, added: 3 };
  const anchor = (c: GuardChange) => ('before' in c ? c.before : c.after);
  return changes.sort((a, b) => order[a.kind] - order[b.kind] || compare(anchor(a).stack, anchor(b).stack) ||
    compare(anchor(a).logicalId, anchor(b).logicalId));
}

/** One line per change, naming the resource and what CloudFormation would do. */
export function describeChange(change: GuardChange): string {
  switch (change.kind) {
    case 'removed':
      return `REMOVED ${change.before.type} ${change.before.logicalId} from ${change.before.stack}: CloudFormation would delete it`;
    case 'renamed':
      return `RENAMED ${change.before.type} ${change.before.logicalId} -> ${change.after.logicalId} in ${change.before.stack}: ` +
        'CloudFormation would create a new resource and delete the old one (keep the construct id stable)';
    case 'retyped':
      return `RETYPED ${change.before.logicalId} in ${change.before.stack} from ${change.before.type} to ${change.after.type}: ` +
        'CloudFormation would replace it';
    case 'added':
      return `ADDED ${change.after.type} ${change.after.logicalId} in ${change.after.stack}: not in the baseline yet`;
  }
}

/** The failure message for one environment's changes, with how to accept an intended change; '' when none. */
export function guardMessage(environment: string, changes: readonly GuardChange[]): string {
  if (changes.length === 0) return '';
  const destructive = changes.filter((c) => c.kind !== 'added').length;
  const added = changes.length - destructive;
  return [
    `Stateful-resource guard, environment ${environment}: ${destructive} change(s) that would delete or replace data, ${added} addition(s).`,
    ...changes.map((c) => `  - ${describeChange(c)}`),
    destructive > 0
      ? 'A removed, renamed or retyped stateful resource loses its data on the next deployment. Restore the construct id / type, ' +
        `or, if the loss is intended and reviewed, run \`${BASELINE_UPDATE_COMMAND}\` and commit audit/baseline/${environment}.json with the change.`
      : `New stateful resources must enter the baseline so that it stays complete: run \`${BASELINE_UPDATE_COMMAND}\` and commit ` +
        `audit/baseline/${environment}.json in the same pull request.`,
  ].join('\n');
}

/** Reads a committed baseline; throws naming the file and the update command when it is missing or malformed. */
export function readBaseline(environment: string, dir = BASELINE_DIR): StatefulBaseline {
  const file = path.join(dir, `${environment}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(`no stateful-resource baseline for environment ${environment} (${file}): run \`${BASELINE_UPDATE_COMMAND}\``);
  }
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  const valid = parsed && parsed.environment === environment && Array.isArray(parsed.resources) &&
    parsed.resources.every((e: any) => typeof e?.stack === 'string' && typeof e?.logicalId === 'string' && typeof e?.type === 'string');
  if (!valid) {
    throw new Error(`${file} is not a stateful-resource baseline of ${environment} ({ environment, resources: [{ stack, logicalId, type }] }): ` +
      `regenerate it with \`${BASELINE_UPDATE_COMMAND}\``);
  }
  return parsed as StatefulBaseline;
}

/** The baseline file's text: pretty JSON, sorted, trailing newline (stable diffs). */
export function renderBaseline(baseline: StatefulBaseline): string {
  return `${JSON.stringify({ environment: baseline.environment, resources: sortEntries(baseline.resources) }, null, 2)}\n`;
}
