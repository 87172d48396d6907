/**
 * Pure SLO arithmetic: attainment and error budget of a request-based SLI over one window.
 *
 * Inputs are per-period samples of good and total events (one CloudWatch data point per period).
 * How awkward data is treated (documented in docs/observability.md):
 * - **No data** (no samples, or samples whose totals are all zero): nothing was measured, so the SLO is
 *   reported as `no-data` with `attainment`, `errorBudgetRemaining` and `burnRate` set to `null`. It is
 *   neither met nor breached: silence is not success, and the reporter publishes the coverage so an
 *   alarm can catch a silent backend.
 * - **Gaps** (periods inside the window without a sample): contribute no events. Request-based SLIs
 *   count events, so a period without requests neither helps nor hurts; `coverage` (periods with data
 *   / periods in the window) and `partial` say how much of the window was observed.
 * - **Partial windows** (the window reaches before the first data point, for example a new
 *   environment, or the current period is still filling): attainment is computed over the events
 *   that exist and `partial` is `true`.
 * - **Bad samples**: non-finite or negative values, and samples outside the window, are dropped and
 *   counted in `ignoredSamples`; `good` above `total` (rounding between two statistics) is clamped to
 *   `total`. Samples with the same timestamp (several regions) are added together.
 */

/** One period's events. */
export interface SliSample {
  /** Start of the period, epoch milliseconds. */
  readonly timestamp: number;
  /** Events in the period. */
  readonly total: number;
  /** Good events in the period (at most `total`). */
  readonly good: number;
}

export interface SloWindowInput {
  /** Objective as a fraction of good events, strictly between 0 and 1. */
  readonly objective: number;
  /** Window start, epoch milliseconds (inclusive). */
  readonly windowStart: number;
  /** Window end, epoch milliseconds (exclusive). */
  readonly windowEnd: number;
  /** Length of one sample period in seconds. */
  readonly periodSeconds: number;
  readonly samples: readonly SliSample[];
}

export type SloStatus = 'met' | 'breached' | 'no-data';

export interface SloAttainment {
  readonly status: SloStatus;
  /** good / total, or null without data. */
  readonly attainment: number | null;
  readonly goodEvents: number;
  readonly totalEvents: number;
  readonly badEvents: number;
  /** Bad events the objective allows over the observed events: (1 - objective) * total. */
  readonly allowedBadEvents: number;
  /** Share of the error budget left: 1 - bad / allowed (negative when overspent); null without data. */
  readonly errorBudgetRemaining: number | null;
  /** Error budget of the window expressed as time: (1 - objective) * window length, in minutes. */
  readonly errorBudgetMinutes: number;
  /** errorBudgetRemaining applied to errorBudgetMinutes; null without data. */
  readonly errorBudgetRemainingMinutes: number | null;
  /** Observed error ratio divided by the allowed error ratio (1 = spending exactly on budget); null without data. */
  readonly burnRate: number | null;
  /** Periods in the window. */
  readonly expectedPeriods: number;
  /** Periods with a sample (including samples with zero events). */
  readonly periodsWithData: number;
  /** periodsWithData / expectedPeriods. */
  readonly coverage: number;
  /** True when part of the window has no data. */
  readonly partial: boolean;
  /** Samples dropped as invalid or outside the window. */
  readonly ignoredSamples: number;
}

/** Throws when the input cannot describe a window (programming errors, not data problems). */
function validateInput(input: SloWindowInput): void {
  const problems: string[] = [];
  if (!(input.objective > 0 && input.objective < 1)) problems.push(`objective ${input.objective} must be between 0 and 1 (exclusive)`);
  if (!Number.isFinite(input.windowStart) || !Number.isFinite(input.windowEnd) || input.windowEnd <= input.windowStart) {
    problems.push(`window ${input.windowStart}..${input.windowEnd} must be finite with end after start`);
  }
  if (!Number.isInteger(input.periodSeconds) || input.periodSeconds <= 0) problems.push(`periodSeconds ${input.periodSeconds} must be a positive integer`);
  if (problems.length > 0) throw new Error(`Invalid SLO window input: ${problems.join('; ')}`);
}

/** Adds samples with the same timestamp (for example the same period from several regions). */
export function mergeSamples(...lists: ReadonlyArray<readonly SliSample[]>): SliSample[] {
  const byTime = new Map<number, { total: number; good: number }>();
  for (const list of lists) {
    for (const s of list) {
      const cur = byTime.get(s.timestamp) ?? { total: 0, good: 0 };
      cur.total += s.total;
      cur.good += s.good;
      byTime.set(s.timestamp, cur);
    }
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([timestamp, v]) => ({ timestamp, ...v }));
}

/** Computes attainment and error budget of one SLO over one window. */
export function computeSloAttainment(input: SloWindowInput): SloAttainment {
  validateInput(input);
  const periodMs = input.periodSeconds * 1000;
  const expectedPeriods = Math.ceil((input.windowEnd - input.windowStart) / periodMs);
  let ignoredSamples = 0;
  const valid: SliSample[] = [];
  for (const s of input.samples) {
    const ok =
      Number.isFinite(s.timestamp) && Number.isFinite(s.total) && Number.isFinite(s.good) &&
      s.total >= 0 && s.good >= 0 && s.timestamp >= input.windowStart && s.timestamp < input.windowEnd;
    if (!ok) {
      ignoredSamples++;
      continue;
    }
    valid.push({ timestamp: s.timestamp, total: s.total, good: Math.min(s.good, s.total) });
  }
  const merged = mergeSamples(valid);
  const periods = new Set(merged.map((s) => Math.floor((s.timestamp - input.windowStart) / periodMs)));
  let totalEvents = 0;
  let goodEvents = 0;
  for (const s of merged) {
    totalEvents += s.total;
    goodEvents += Math.min(s.good, s.total);
  }
  const badEvents = totalEvents - goodEvents;
  const errorAllowance = 1 - input.objective;
  const allowedBadEvents = errorAllowance * totalEvents;
  const errorBudgetMinutes = (errorAllowance * (input.windowEnd - input.windowStart)) / 60000;
  const periodsWithData = Math.min(periods.size, expectedPeriods);
  const coverage = expectedPeriods === 0 ? 0 : periodsWithData / expectedPeriods;
  const base = {
    goodEvents,
    totalEvents,
    badEvents,
    allowedBadEvents,
    errorBudgetMinutes,
    expectedPeriods,
    periodsWithData,
    coverage,
    partial: coverage < 1,
    ignoredSamples,
  };
  if (totalEvents === 0) {
    return { ...base, status: 'no-data', attainment: null, errorBudgetRemaining: null, errorBudgetRemainingMinutes: null, burnRate: null };
  }
  const attainment = goodEvents / totalEvents;
  const errorBudgetRemaining = 1 - badEvents / allowedBadEvents;
  return {
    ...base,
    status: attainment >= input.objective ? 'met' : 'breached',
    attainment,
    errorBudgetRemaining,
    errorBudgetRemainingMinutes: errorBudgetRemaining * errorBudgetMinutes,
    burnRate: badEvents / totalEvents / errorAllowance,
  };
}

/**
 * Period for reading a window from CloudWatch: the smallest period that keeps a window within
 * 1,440 data points per series and respects CloudWatch retention (60 s data for 15 days, 300 s for
 * 63 days, 3600 s beyond). `ageSeconds` is how far the window start lies in the past.
 */
export function choosePeriodSeconds(windowSeconds: number, ageSeconds: number): number {
  const candidates = [60, 300, 900, 3600, 21600, 86400];
  const minimumForAge = ageSeconds > 63 * 86400 ? 3600 : ageSeconds > 15 * 86400 ? 300 : 60;
  for (const p of candidates) {
    if (p >= minimumForAge && windowSeconds / p <= 1440) return p;
  }
  return 86400;
}
