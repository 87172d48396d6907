import { choosePeriodSeconds, computeSloAttainment, mergeSamples } from '../../lambdas/slo-reporter/slo-math';
import { environmentRegions, parseWindow } from '../../lambdas/slo-reporter/slo-definitions';

const H = 3600_000;
const start = Date.UTC(2026, 10, 1);
const hours = (n: number) => start + n * H;

describe('computeSloAttainment', () => {
  test('full window: attainment, budget and burn rate', () => {
    // 10 hourly periods x 10,000 requests, 5 errors in total; objective 99.9 % allows 100 bad events.
    const samples = Array.from({ length: 10 }, (_, i) => ({ timestamp: hours(i), total: 10_000, good: i === 3 ? 9_995 : 10_000 }));
    const r = computeSloAttainment({ objective: 0.999, windowStart: start, windowEnd: hours(10), periodSeconds: 3600, samples });
    expect(r.status).toBe('met');
    expect(r.totalEvents).toBe(100_000);
    expect(r.badEvents).toBe(5);
    expect(r.attainment).toBeCloseTo(0.99995, 10);
    expect(r.allowedBadEvents).toBeCloseTo(100, 6);
    expect(r.errorBudgetRemaining).toBeCloseTo(0.95, 10);
    expect(r.burnRate).toBeCloseTo(0.05, 10);
    // 10 h window, 0.1 % => 0.6 minutes of budget, 95 % left
    expect(r.errorBudgetMinutes).toBeCloseTo(0.6, 10);
    expect(r.errorBudgetRemainingMinutes).toBeCloseTo(0.57, 10);
    expect(r.coverage).toBe(1);
    expect(r.partial).toBe(false);
  });

  test('breached objective gives negative remaining budget', () => {
    const samples = [{ timestamp: start, total: 1000, good: 990 }];
    const r = computeSloAttainment({ objective: 0.999, windowStart: start, windowEnd: hours(1), periodSeconds: 3600, samples });
    expect(r.status).toBe('breached');
    expect(r.attainment).toBeCloseTo(0.99, 10);
    expect(r.errorBudgetRemaining).toBeCloseTo(1 - 10 / 1, 6); // 10 bad vs 1 allowed => -9
    expect(r.burnRate).toBeCloseTo(10, 6);
  });

  test('no data: no samples => no-data with null attainment and budget', () => {
    const r = computeSloAttainment({ objective: 0.99, windowStart: start, windowEnd: hours(24), periodSeconds: 3600, samples: [] });
    expect(r.status).toBe('no-data');
    expect(r.attainment).toBeNull();
    expect(r.errorBudgetRemaining).toBeNull();
    expect(r.errorBudgetRemainingMinutes).toBeNull();
    expect(r.burnRate).toBeNull();
    expect(r.coverage).toBe(0);
    expect(r.partial).toBe(true);
    expect(r.expectedPeriods).toBe(24);
  });

  test('no data: samples with zero events are data points but still no-data', () => {
    const samples = [0, 1, 2].map((i) => ({ timestamp: hours(i), total: 0, good: 0 }));
    const r = computeSloAttainment({ objective: 0.99, windowStart: start, windowEnd: hours(3), periodSeconds: 3600, samples });
    expect(r.status).toBe('no-data');
    expect(r.coverage).toBe(1);
  });

  test('gaps: missing periods contribute no events and lower coverage', () => {
    const samples = [{ timestamp: hours(0), total: 100, good: 100 }, { timestamp: hours(5), total: 100, good: 99 }];
    const r = computeSloAttainment({ objective: 0.99, windowStart: start, windowEnd: hours(10), periodSeconds: 3600, samples });
    expect(r.totalEvents).toBe(200);
    expect(r.attainment).toBeCloseTo(0.995, 10);
    expect(r.periodsWithData).toBe(2);
    expect(r.coverage).toBeCloseTo(0.2, 10);
    expect(r.partial).toBe(true);
    expect(r.status).toBe('met');
  });

  test('partial window: data only in the last part of the window (new environment)', () => {
    const samples = [{ timestamp: hours(22), total: 500, good: 500 }, { timestamp: hours(23), total: 500, good: 498 }];
    const r = computeSloAttainment({ objective: 0.999, windowStart: start, windowEnd: hours(24), periodSeconds: 3600, samples });
    expect(r.partial).toBe(true);
    expect(r.coverage).toBeCloseTo(2 / 24, 10);
    expect(r.attainment).toBeCloseTo(0.998, 10);
    expect(r.status).toBe('breached');
    // the time budget is for the whole window; remaining fraction applies to it
    expect(r.errorBudgetMinutes).toBeCloseTo(1.44, 10);
    expect(r.errorBudgetRemaining).toBeCloseTo(1 - 2 / 1, 10);
  });

  test('partial last period: a window that does not divide into periods rounds the period count up', () => {
    const r = computeSloAttainment({ objective: 0.99, windowStart: start, windowEnd: start + 90 * 60_000, periodSeconds: 3600, samples: [{ timestamp: start, total: 10, good: 10 }] });
    expect(r.expectedPeriods).toBe(2);
    expect(r.coverage).toBe(0.5);
  });

  test('bad samples are dropped and counted; good above total is clamped; equal timestamps add up', () => {
    const samples = [
      { timestamp: hours(0), total: 100, good: 100 },
      { timestamp: hours(0), total: 100, good: 90 }, // second region, same period
      { timestamp: hours(1), total: 50, good: 51 }, // rounding between statistics
      { timestamp: hours(2), total: Number.NaN, good: 1 },
      { timestamp: hours(2), total: -5, good: 0 },
      { timestamp: hours(99), total: 10, good: 10 }, // outside the window
    ];
    const r = computeSloAttainment({ objective: 0.9, windowStart: start, windowEnd: hours(3), periodSeconds: 3600, samples });
    expect(r.ignoredSamples).toBe(3);
    expect(r.totalEvents).toBe(250);
    expect(r.goodEvents).toBe(240);
    expect(r.periodsWithData).toBe(2);
  });

  test('rejects impossible inputs with one error naming each problem', () => {
    expect(() => computeSloAttainment({ objective: 1, windowStart: 10, windowEnd: 5, periodSeconds: 0, samples: [] })).toThrow(
      /objective 1 must be between 0 and 1.*window 10\.\.5 must be finite with end after start.*periodSeconds 0 must be a positive integer/,
    );
  });
});

describe('mergeSamples and choosePeriodSeconds', () => {
  test('merges regions by timestamp, sorted', () => {
    expect(mergeSamples([{ timestamp: 2, total: 1, good: 1 }], [{ timestamp: 1, total: 3, good: 2 }, { timestamp: 2, total: 4, good: 4 }])).toEqual([
      { timestamp: 1, total: 3, good: 2 },
      { timestamp: 2, total: 5, good: 5 },
    ]);
  });

  test.each([
    [3600, 3600, 60],
    [86400, 86400, 60],
    [7 * 86400, 7 * 86400, 900],
    [30 * 86400, 30 * 86400, 3600],
    [90 * 86400, 90 * 86400, 21600],
  ])('window %ss aged %ss reads with period %ss', (window, age, period) => {
    expect(choosePeriodSeconds(window, age)).toBe(period);
  });
});

describe('slo definitions helpers', () => {
  test('parseWindow', () => {
    expect(parseWindow('30d')).toEqual({ seconds: 30 * 86400 });
    expect(parseWindow('90m')).toEqual({ seconds: 5400 });
    expect(parseWindow('2w')).toEqual({ seconds: 14 * 86400 });
    expect(parseWindow('1m')).toEqual({ error: expect.stringMatching(/too short; the minimum is 5m/) });
    expect(parseWindow('500d')).toEqual({ error: expect.stringMatching(/too long.*455d/) });
    expect(parseWindow('30 days')).toEqual({ error: expect.stringMatching(/"30 days" is not valid/) });
  });

  test('environmentRegions', () => {
    expect(environmentRegions('prod')).toEqual({ regions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'] });
    expect(environmentRegions('pr-42')).toEqual({ regions: ['us-east-1'] });
    expect(environmentRegions('pr-0')).toEqual({ error: expect.stringMatching(/env "pr-0" is not known; allowed: dev, staging, prod or pr-<number>/) });
  });
});
