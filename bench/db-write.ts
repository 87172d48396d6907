/**
 * `npm run bench:db-write`: write transactions per second of the message send (bench/message-write.pgbench.sql) on the
 * real schema, with pgbench against the local PostgreSQL, and per vCPU of this machine. Feeds the capacity model's
 * `writeTransactionsPerVcpu`. Prints one JSON line at the end.
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as os from 'os';
import * as path from 'path';
import { Client, Pool } from 'pg';
import { applyMigrations } from '../database/migrator';

const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const name = `ch_bench_write_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    const pool = new Pool({ connectionString: url.toString() });
    await applyMigrations(pool);
    await pool.end();
    const output = execFileSync('pgbench', [
      '-h', url.hostname, '-p', url.port || '5432', '-U', url.username || 'postgres', '-n',
      '-c', String(CLIENTS), '-j', '2', '-T', String(SECONDS), '-f', path.join(__dirname, 'message-write.pgbench.sql'), name,
    ], { encoding: 'utf8' });
    const tps = Number(/tps = ([\d.]+)/.exec(output)?.[1]);
    const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(output)?.[1]);
    const vcpus = os.cpus().length;
    const load = os.loadavg()[0];
    process.stdout.write(`${output}\n`);
    process.stdout.write(`${JSON.stringify({ benchmark: 'db-write', clients: CLIENTS, seconds: SECONDS, tps: Math.round(tps), latencyMs, vcpus, tpsPerVcpu: Math.round(tps / vcpus), loadAverage1m: load })}\n`);
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench:db-write failed: ${error.message}\n`);
  process.exit(1);
});
