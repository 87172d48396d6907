import { LONG_LIVED_ENVIRONMENTS, previewEnvironment } from '../config/environments';
import { deriveCapacity } from './capacity-model';
import { PER_UNIT } from './per-unit-figures';

/** The derived sizes of every default environment as a Markdown table (README and audit report). */
export function capacityTable(): string {
  const prod = LONG_LIVED_ENVIRONMENTS.prod;
  const envs = [
    ...Object.values(LONG_LIVED_ENVIRONMENTS),
    { ...prod, name: 'prod with `-c prod:tier=one-year`', tier: 'one-year' as const },
    previewEnvironment('pr-N'),
  ];
  const rows = envs.map((env) => {
    const plan = deriveCapacity(env.tier, env.regions.length);
    const w = plan.workloads;
    const pods = (name: keyof typeof w) => `${w[name].minReplicas}-${w[name].maxReplicas}`;
    const cache = `${plan.cache.shards} x ${plan.cache.nodeType} (+${plan.cache.replicasPerShard} replica${plan.cache.replicasPerShard === 1 ? '' : 's'})`;
    const kafka = plan.streaming.mode === 'serverless'
      ? 'MSK Serverless'
      : `${plan.streaming.brokers} x ${plan.streaming.brokerInstanceType}, ${plan.streaming.volumeGiB} GiB`;
    const partitions = Object.values(plan.streaming.partitions).join('/');
    const db = `db.${plan.database.instanceClass}, ${plan.database.readers} reader${plan.database.readers === 1 ? '' : 's'} (max ${plan.database.maxReaders})`;
    const st = plan.storage;
    const hot = `${Math.round(st.totalHotTerabytes * 10) / 10} TB${st.fitsOneVolume ? ''
      : st.maxRetentionMonths > 0 ? `: OVER one volume (a ${st.maxRetentionMonths}-month retention fits)` : ': OVER one volume (not even one month fits)'}`;
    return `| ${env.name} | ${env.tier} | ${pods('api')} | ${pods('realtime')} | ${pods('worker')} | ${cache} | ${kafka} | ${partitions} | ${db} | ${plan.database.maxConnections} | ${hot} |`;
  });
  const usable = deriveCapacity('dev').storage.usableTerabytes;
  const figures = Object.entries(PER_UNIT).map(([name, f]) => `| ${name} | ${f.value} | ${f.unit} | ${f.source} |`);
  return [
    '| env | tier | api pods | realtime pods | worker pods | Redis (per region) | Kafka (per region) | partitions (activity/feed/messages/match) | Aurora (per region) | max_connections | ' +
      `Aurora hot data at the partition retention (${usable} TB usable per volume) |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Per-unit figures the sizes derive from (`lib/capacity/per-unit-figures.ts`):',
    '',
    '| figure | value | unit | source |',
    '|---|---|---|---|',
    ...figures,
  ].join('\n');
}
