/**
 * Pure planning of CloudFront invalidations: dedupe, collapse crowded folders into one wildcard, and
 * split into CreateInvalidation batches that respect CloudFront's quotas.
 */

export interface InvalidationLimits {
  /** Paths per CreateInvalidation call (CloudFront: at most 3000 file paths in progress). */
  readonly maxPathsPerBatch: number;
  /** Wildcard paths per call (CloudFront: at most 15 wildcard paths in progress). */
  readonly maxWildcardsPerBatch: number;
  /** More than this many paths in one folder become `<folder>/*`. */
  readonly collapseThreshold: number;
}

export const DEFAULT_INVALIDATION_LIMITS: InvalidationLimits = {
  maxPathsPerBatch: 3000,
  maxWildcardsPerBatch: 15,
  collapseThreshold: 100,
};

/**
 * Invalidation path for an object key: unsafe characters percent-encoded as a browser sends them,
 * '/' and the sub-delimiters the image operations use (`=`, `,`) kept literal, and `*` always encoded so
 * that a key can never turn into a wildcard.
 */
export function pathForKey(key: string): string {
  return '/' + key.split('/').map((s) => encodeURIComponent(s)
    .replace(/%(3D|2C|3A|40|21|24|26|27|28|29|2B|3B)/g, (m) => decodeURIComponent(m))
    .replace(/\*/g, '%2A')).join('/');
}

function folderOf(path: string): string {
  return path.substring(0, path.lastIndexOf('/'));
}

function coveredBy(path: string, wildcards: ReadonlySet<string>): boolean {
  // A wildcard `<folder>/*` covers every path below that folder, however deep.
  let folder = folderOf(path);
  while (folder.length > 0) {
    if (wildcards.has(`${folder}/*`)) return true;
    folder = folderOf(folder);
  }
  return false;
}

/** Dedupes and collapses; the result is sorted (deterministic batches and caller references). */
export function collapsePaths(paths: readonly string[], limits: InvalidationLimits = DEFAULT_INVALIDATION_LIMITS): string[] {
  const unique = [...new Set(paths)];
  const wildcards = new Set(unique.filter((p) => p.endsWith('/*')));
  const byFolder = new Map<string, string[]>();
  for (const path of unique) {
    if (path.endsWith('/*')) continue;
    const folder = folderOf(path);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), path]);
  }
  for (const [folder, members] of byFolder) {
    if (members.length > limits.collapseThreshold && folder.length > 0) wildcards.add(`${folder}/*`);
  }
  // Drop wildcards covered by a wider wildcard, then files covered by any wildcard.
  const keptWildcards = new Set([...wildcards].filter((w) => !coveredBy(w.slice(0, -2), wildcards)));
  const files = unique.filter((p) => !p.endsWith('/*') && !coveredBy(p, keptWildcards));
  return [...keptWildcards, ...files].sort();
}

/** Splits collapsed paths into batches of at most maxPathsPerBatch paths and maxWildcardsPerBatch wildcards. */
export function batchPaths(paths: readonly string[], limits: InvalidationLimits = DEFAULT_INVALIDATION_LIMITS): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let wildcardsInCurrent = 0;
  for (const path of paths) {
    const isWildcard = path.endsWith('*');
    if (current.length >= limits.maxPathsPerBatch || (isWildcard && wildcardsInCurrent >= limits.maxWildcardsPerBatch)) {
      batches.push(current);
      current = [];
      wildcardsInCurrent = 0;
    }
    current.push(path);
    if (isWildcard) wildcardsInCurrent += 1;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Everything to invalidate for the given changed media keys and their derived image objects. */
export function planInvalidations(
  changedKeys: readonly string[],
  derivedKeys: readonly string[],
  limits: InvalidationLimits = DEFAULT_INVALIDATION_LIMITS,
): string[][] {
  const paths = [...changedKeys, ...derivedKeys].map(pathForKey);
  return batchPaths(collapsePaths(paths, limits), limits);
}
