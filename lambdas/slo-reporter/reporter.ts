/**
 * Reads SLI data from CloudWatch (GetMetricData), computes SLO attainment with ./slo-math and
 * publishes the results (PutMetricData). Shared by the scheduled Lambda (./index.ts) and the
 * auditors' CLI (tools/slo-report.ts). Imports nothing from the CDK code.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  PutMetricDataCommand,
  type MetricDataQuery,
  type MetricDatum,
} from '@aws-sdk/client-cloudwatch';
import { choosePeriodSeconds, computeSloAttainment, mergeSamples, type SloAttainment, type SliSample } from './slo-math';
import { BACKEND_DIMENSIONS, BACKEND_NAMESPACE, SLO_NAMESPACE, SLOS, type SloDefinition } from './slo-definitions';

/** GetMetricData accepts at most 500 queries per request. */
export const MAX_QUERIES_PER_REQUEST = 500;
/** PutMetricData accepts at most 1000 data points per request; stay well below. */
export const MAX_DATUMS_PER_PUT = 150;

/** The slice of the CloudWatch client this module uses (a real CloudWatchClient satisfies it). */
export type CloudWatchLike = Pick<CloudWatchClient, 'send'>;

export interface SloReportEntry {
  readonly sloId: string;
  readonly description: string;
  readonly objective: number;
  /** Region the entry covers, or `all` for the combination of an environment's regions. */
  readonly region: string;
  readonly window: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly periodSeconds: number;
  readonly result: SloAttainment;
}

export interface SloReport {
  readonly environment: string;
  readonly regions: readonly string[];
  readonly window: string;
  readonly generatedAt: string;
  readonly entries: readonly SloReportEntry[];
}

interface QueryPlan {
  readonly slo: SloDefinition;
  readonly totalId: string;
  readonly secondId: string;
}

/** Builds the GetMetricData queries for the SLOs of one environment. Ids are deterministic. */
export function buildQueries(environment: string, periodSeconds: number, slos: readonly SloDefinition[] = SLOS): { queries: MetricDataQuery[]; plans: QueryPlan[] } {
  const queries: MetricDataQuery[] = [];
  const plans: QueryPlan[] = [];
  slos.forEach((slo, i) => {
    const dims = [
      { Name: BACKEND_DIMENSIONS.environment, Value: environment },
      { Name: BACKEND_DIMENSIONS.service, Value: slo.sli.service },
    ];
    const totalId = `s${i}_total`;
    const secondId = slo.sli.kind === 'availability' ? `s${i}_bad` : `s${i}_good`;
    if (slo.sli.kind === 'availability') {
      queries.push({ Id: totalId, MetricStat: { Metric: { Namespace: BACKEND_NAMESPACE, MetricName: slo.sli.totalMetric, Dimensions: dims }, Period: periodSeconds, Stat: 'Sum' }, ReturnData: true });
      queries.push({ Id: secondId, MetricStat: { Metric: { Namespace: BACKEND_NAMESPACE, MetricName: slo.sli.errorMetric, Dimensions: dims }, Period: periodSeconds, Stat: 'Sum' }, ReturnData: true });
    } else {
      const metric = { Namespace: BACKEND_NAMESPACE, MetricName: slo.sli.latencyMetric, Dimensions: dims };
      queries.push({ Id: totalId, MetricStat: { Metric: metric, Period: periodSeconds, Stat: 'SampleCount' }, ReturnData: true });
      queries.push({ Id: secondId, MetricStat: { Metric: metric, Period: periodSeconds, Stat: `TC(:${slo.sli.thresholdMs})` }, ReturnData: true });
    }
    plans.push({ slo, totalId, secondId });
  });
  return { queries, plans };
}

/** Time series keyed by query id: timestamp (epoch ms) -> value. */
export type SeriesById = Map<string, Map<number, number>>;

/**
 * Runs GetMetricData for any number of queries: batches of at most 500 queries, each batch
 * followed through every NextToken page. Values of the same id and timestamp are added.
 */
export async function fetchMetricData(client: CloudWatchLike, queries: readonly MetricDataQuery[], start: Date, end: Date): Promise<SeriesById> {
  const series: SeriesById = new Map();
  for (const q of queries) series.set(q.Id!, new Map());
  for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_REQUEST) {
    const batch = queries.slice(i, i + MAX_QUERIES_PER_REQUEST);
    let nextToken: string | undefined;
    do {
      const out = await client.send(
        new GetMetricDataCommand({ MetricDataQueries: batch, StartTime: start, EndTime: end, ScanBy: 'TimestampAscending', NextToken: nextToken }),
      );
      for (const r of out.MetricDataResults ?? []) {
        const target = series.get(r.Id ?? '');
        if (!target) continue;
        const ts = r.Timestamps ?? [];
        const vs = r.Values ?? [];
        for (let k = 0; k < Math.min(ts.length, vs.length); k++) {
          const t = new Date(ts[k]).getTime();
          target.set(t, (target.get(t) ?? 0) + vs[k]);
        }
      }
      nextToken = out.NextToken;
    } while (nextToken);
  }
  return series;
}

/** Turns the two series of one SLO into good/total samples. A missing error or good point counts as 0. */
export function samplesFor(plan: QueryPlan, series: SeriesById): SliSample[] {
  const totals = series.get(plan.totalId) ?? new Map<number, number>();
  const second = series.get(plan.secondId) ?? new Map<number, number>();
  const samples: SliSample[] = [];
  for (const [timestamp, total] of totals) {
    const other = second.get(timestamp) ?? 0;
    const good = plan.slo.sli.kind === 'availability' ? total - other : other;
    samples.push({ timestamp, total, good: Math.max(0, good) });
  }
  return samples.sort((a, b) => a.timestamp - b.timestamp);
}

export interface ReportOptions {
  readonly environment: string;
  readonly regions: readonly string[];
  /** Window label as given (for example `30d`). */
  readonly window: string;
  readonly windowSeconds: number;
  /** Creates a CloudWatch client for a region. */
  readonly clientFor: (region: string) => CloudWatchLike;
  /** Current time, epoch milliseconds. */
  readonly now: number;
  readonly slos?: readonly SloDefinition[];
}

/**
 * Computes one window's report for an environment: one entry per SLO and region, plus a combined
 * `all` entry per SLO when there are several regions. The window ends at the last complete period.
 */
export async function buildReport(opts: ReportOptions): Promise<SloReport> {
  const slos = opts.slos ?? SLOS;
  const periodSeconds = choosePeriodSeconds(opts.windowSeconds, opts.windowSeconds);
  const periodMs = periodSeconds * 1000;
  const windowEnd = Math.floor(opts.now / periodMs) * periodMs;
  const windowStart = windowEnd - opts.windowSeconds * 1000;
  const { queries, plans } = buildQueries(opts.environment, periodSeconds, slos);
  const perRegion: Array<{ region: string; samples: SliSample[][] }> = [];
  for (const region of opts.regions) {
    const series = await fetchMetricData(opts.clientFor(region), queries, new Date(windowStart), new Date(windowEnd));
    perRegion.push({ region, samples: plans.map((p) => samplesFor(p, series)) });
  }
  const entries: SloReportEntry[] = [];
  const entry = (slo: SloDefinition, region: string, samples: SliSample[]): SloReportEntry => ({
    sloId: slo.id,
    description: slo.description,
    objective: slo.objective,
    region,
    window: opts.window,
    windowStart: new Date(windowStart).toISOString(),
    windowEnd: new Date(windowEnd).toISOString(),
    periodSeconds,
    result: computeSloAttainment({ objective: slo.objective, windowStart, windowEnd, periodSeconds, samples }),
  });
  plans.forEach((plan, i) => {
    for (const r of perRegion) entries.push(entry(plan.slo, r.region, r.samples[i]));
    if (perRegion.length > 1) entries.push(entry(plan.slo, 'all', mergeSamples(...perRegion.map((r) => r.samples[i]))));
  });
  return { environment: opts.environment, regions: [...opts.regions], window: opts.window, generatedAt: new Date(opts.now).toISOString(), entries };
}

/** Metric data describing report entries; `no-data` entries publish only their coverage. */
export function toMetricData(report: SloReport): MetricDatum[] {
  const data: MetricDatum[] = [];
  const timestamp = new Date(report.entries[0]?.windowEnd ?? report.generatedAt);
  for (const e of report.entries) {
    if (e.region === 'all') continue;
    const Dimensions = [
      { Name: 'Environment', Value: report.environment },
      { Name: 'Slo', Value: e.sloId },
      { Name: 'Window', Value: e.window },
    ];
    data.push({ MetricName: 'DataCoverage', Dimensions, Timestamp: timestamp, Unit: 'Percent', Value: e.result.coverage * 100 });
    if (e.result.attainment === null) continue;
    data.push({ MetricName: 'Attainment', Dimensions, Timestamp: timestamp, Unit: 'Percent', Value: e.result.attainment * 100 });
    data.push({ MetricName: 'ErrorBudgetRemaining', Dimensions, Timestamp: timestamp, Unit: 'Percent', Value: (e.result.errorBudgetRemaining ?? 0) * 100 });
    data.push({ MetricName: 'BurnRate', Dimensions, Timestamp: timestamp, Unit: 'None', Value: e.result.burnRate ?? 0 });
  }
  return data;
}

/** Publishes report metrics to the ConnectHub/SLO namespace in batches. Returns the number of data points. */
export async function publishReport(client: CloudWatchLike, report: SloReport): Promise<number> {
  const data = toMetricData(report);
  for (let i = 0; i < data.length; i += MAX_DATUMS_PER_PUT) {
    await client.send(new PutMetricDataCommand({ Namespace: SLO_NAMESPACE, MetricData: data.slice(i, i + MAX_DATUMS_PER_PUT) }));
  }
  return data.length;
}

const pct = (v: number | null, digits: number) => (v === null ? '-' : `${(v * 100).toFixed(digits)} %`);

/** Renders reports as a fixed-width text table for people. */
export function formatTable(reports: readonly SloReport[]): string {
  const header = ['SLO', 'Region', 'Window', 'Objective', 'Attainment', 'Budget left', 'Burn rate', 'Events', 'Coverage', 'Status'];
  const rows: string[][] = [];
  for (const report of reports) {
    for (const e of report.entries) {
      const r = e.result;
      rows.push([
        e.sloId,
        e.region,
        e.window,
        pct(e.objective, 2),
        pct(r.attainment, 3),
        pct(r.errorBudgetRemaining, 1),
        r.burnRate === null ? '-' : r.burnRate.toFixed(2),
        `${r.goodEvents}/${r.totalEvents}`,
        pct(r.coverage, 0),
        r.status + (r.partial && r.status !== 'no-data' ? ' (partial)' : ''),
      ]);
    }
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  const first = reports[0];
  const title = first ? `ConnectHub SLO report: env ${first.environment}, generated ${first.generatedAt}` : 'ConnectHub SLO report';
  return [title, '', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
