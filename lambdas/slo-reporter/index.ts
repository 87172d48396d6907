/**
 * Scheduled SLO reporter (EventBridge rule -> this handler). For its own region it reads the SLIs of
 * one environment for each configured window, computes attainment and error budget, and publishes
 * them to CloudWatch (namespace ConnectHub/SLO). Configuration (set by the CDK construct):
 * - `CONNECTHUB_ENVIRONMENT`: environment name (dev, staging, prod, pr-<n>).
 * - `SLO_WINDOWS`: comma-separated windows, for example `1h,1d,7d,30d`.
 * - `AWS_REGION`: set by Lambda.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { buildReport, publishReport, type CloudWatchLike, type SloReport } from './reporter';
import { environmentRegions, parseWindow, ENVIRONMENT_REGIONS } from './slo-definitions';

export interface HandlerConfig {
  readonly environment: string;
  readonly region: string;
  readonly windows: ReadonlyArray<{ label: string; seconds: number }>;
}

/** Reads and validates the handler's configuration; throws one error naming every bad setting. */
export function readConfig(env: NodeJS.ProcessEnv): HandlerConfig {
  const problems: string[] = [];
  const environment = env.CONNECTHUB_ENVIRONMENT ?? '';
  if (!environment) problems.push('CONNECTHUB_ENVIRONMENT is not set; allowed: ' + [...Object.keys(ENVIRONMENT_REGIONS), 'pr-<number>'].join(', '));
  else {
    const r = environmentRegions(environment);
    if ('error' in r) problems.push(`CONNECTHUB_ENVIRONMENT: ${r.error}`);
  }
  const region = env.AWS_REGION ?? '';
  if (!region) problems.push('AWS_REGION is not set');
  const windows: Array<{ label: string; seconds: number }> = [];
  const rawWindows = (env.SLO_WINDOWS ?? '').split(',').map((w) => w.trim()).filter((w) => w.length > 0);
  if (rawWindows.length === 0) problems.push('SLO_WINDOWS is empty; give comma-separated windows such as 1h,1d,7d,30d');
  for (const w of rawWindows) {
    const parsed = parseWindow(w);
    if ('error' in parsed) problems.push(`SLO_WINDOWS: ${parsed.error}`);
    else windows.push({ label: w, seconds: parsed.seconds });
  }
  if (problems.length > 0) throw new Error(`SLO reporter configuration is invalid: ${problems.join('; ')}`);
  return { environment, region, windows };
}

/** Runs the reporter once with an injected client (used by the handler and by tests). */
export async function runOnce(config: HandlerConfig, client: CloudWatchLike, now: number): Promise<{ reports: SloReport[]; published: number }> {
  const reports: SloReport[] = [];
  let published = 0;
  for (const w of config.windows) {
    const report = await buildReport({
      environment: config.environment,
      regions: [config.region],
      window: w.label,
      windowSeconds: w.seconds,
      clientFor: () => client,
      now,
    });
    published += await publishReport(client, report);
    reports.push(report);
  }
  return { reports, published };
}

let client: CloudWatchClient | undefined;

export async function handler(): Promise<{ environment: string; region: string; published: number; summary: Array<{ slo: string; window: string; status: string; attainment: number | null }> }> {
  const config = readConfig(process.env);
  client ??= new CloudWatchClient({ region: config.region });
  const { reports, published } = await runOnce(config, client, Date.now());
  const summary = reports.flatMap((r) => r.entries.map((e) => ({ slo: e.sloId, window: e.window, status: e.result.status, attainment: e.result.attainment })));
  console.log(JSON.stringify({ message: 'slo report published', environment: config.environment, region: config.region, published, summary }));
  return { environment: config.environment, region: config.region, published, summary };
}
