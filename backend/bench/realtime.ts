/**
 * `npm run bench:realtime`: message delivery latency with ≥1,000 concurrent WebSockets spread over
 * two realtime pods (bundled server processes, started as the container starts them). Messages are
 * sent through the api role (commit + outbox + fast-path publish) to a recipient connected to the
 * *other* pod from the sender's, so every delivery crosses pods through Redis pub/sub.
 *
 * Reported: deliveryMs (commit on the api → frame received by the client) and endToEndMs (HTTP
 * send started → frame received), p50/p99/max, and losses. Loopback only, bounded (~30-60 s).
 * Prints one JSON line at the end.
 *
 * Options (env): BENCH_SOCKETS (default 1000), BENCH_RATE (messages/s, default 100), BENCH_SECONDS (default 10),
 * BENCH_INFLIGHT (concurrent sends, default 16).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { cleanRedis, seedUser } from '../test/helpers';
import { buildBundle, cleanup, createTestDb, machine, onCleanup, percentile, round, startBundled, startJwks, stop, Started } from './common';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 100);
/** Sends in flight at most (a closed loop: an overloaded api slows the sender instead of queueing). */
const MAX_INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

async function main() {
  buildBundle();
  const [db, jwks] = await Promise.all([createTestDb('benchrt'), startJwks()]);
  const prefix = `benchrt:${randomUUID().slice(0, 8)}:`;
  let api: Started | undefined, podA: Started | undefined, podB: Started | undefined;
  const sockets: WebSocket[] = [];
  onCleanup(() => Promise.all([db.drop(), jwks.close()]));
  onCleanup(() => cleanRedis(prefix));
  onCleanup(() => Promise.all([stop(api), stop(podA), stop(podB)]));
  onCleanup(async () => sockets.forEach((s) => s.terminate()));

  const extra = { SHUTDOWN_DELAY_SECONDS: '0', MAX_WS_CONNECTIONS: String(SOCKETS), RATE_LIMIT_PER_MINUTE: '10000000', DATABASE_POOL_MAX: '20' };
  [api, podA, podB] = await Promise.all([
    startBundled('api', db, prefix, jwks, extra),
    startBundled('realtime', undefined, prefix, jwks, extra),
    startBundled('realtime', undefined, prefix, jwks, extra),
  ]);
  const users = await Promise.all(Array.from({ length: SOCKETS }, () => seedUser(db.pool)));
  const tokens = users.map((u) => jwks.token(u));

  const sentAt = new Map<string, number>();
  const delivery: number[] = [];
  const endToEnd: number[] = [];
  let duplicates = 0;
  const received = new Set<string>();

  // Even users on pod A, odd users on pod B; connect in waves of 100.
  const t0 = Date.now();
  for (let i = 0; i < SOCKETS; i += 100) {
    await Promise.all(
      users.slice(i, i + 100).map(
        (_u, j) =>
          new Promise<void>((resolve, reject) => {
            const idx = i + j;
            const pod = idx % 2 === 0 ? podA! : podB!;
            const ws = new WebSocket(`ws://127.0.0.1:${pod.port}/ws`, ['connecthub.v1', `bearer.${tokens[idx]}`]);
            sockets.push(ws);
            ws.on('message', (data) => {
              const now = Date.now();
              const e = JSON.parse(String(data));
              if (e.type === 'ready') return resolve();
              if (e.type !== 'message') return;
              const key = e.data.message.clientKey as string;
              if (received.has(key)) {
                duplicates += 1;
                return;
              }
              received.add(key);
              delivery.push(now - e.at);
              const s = sentAt.get(key);
              if (s !== undefined) endToEnd.push(now - s);
            });
            ws.on('error', reject);
          }),
      ),
    );
  }
  const connectSeconds = round((Date.now() - t0) / 1000);
  process.stderr.write(`${SOCKETS} sockets connected in ${connectSeconds} s\n`);

  // Send RATE messages/s for SECONDS, each to a user on the other pod.
  let sent = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const inflight: Promise<void>[] = [];
  const total = RATE * SECONDS;
  const start = Date.now();
  while (sent + failed < total && Date.now() - start < SECONDS * 3000) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * RATE));
    for (let i = sent + failed + inflight.length; i < due && inflight.length < MAX_INFLIGHT; i++) {
      const from = i % SOCKETS;
      const to = (from + 1 + 2 * ((i * 7) % (SOCKETS / 2 - 1))) % SOCKETS; // opposite parity: the other pod
      const clientKey = `bench-${i}-${randomUUID().slice(0, 8)}`;
      const p = (async () => {
        sentAt.set(clientKey, Date.now());
        const r = await fetch(`http://127.0.0.1:${api!.port}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens[from]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ recipientId: users[to], body: `bench ${i}`, clientKey }),
        }).catch(() => undefined);
        if (r && r.status === 201) sent += 1;
        else {
          failed += 1;
          const why = r ? String(r.status) : 'network';
          failures[why] = (failures[why] ?? 0) + 1;
        }
        await r?.arrayBuffer().catch(() => undefined);
      })();
      inflight.push(p);
      void p.finally(() => inflight.splice(inflight.indexOf(p), 1));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all([...inflight]);
  const sendSeconds = (Date.now() - start) / 1000;
  const waitUntil = Date.now() + 5_000;
  while (received.size < sent && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));

  delivery.sort((a, b) => a - b);
  endToEnd.sort((a, b) => a - b);
  const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  // Resident memory of each realtime pod with its sockets open (Linux /proc; null elsewhere).
  const rssMiB = [podA, podB].map((p) => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p!.child.pid}/status`, 'utf8'))?.[1]);
      return round(kb / 1024, 1);
    } catch {
      return null;
    }
  });
  const result = {
    bench: 'realtime',
    sockets: SOCKETS,
    socketsOpenAtEnd: open,
    pods: 2,
    podRssMiB: rssMiB,
    connectSeconds,
    targetRatePerSecond: RATE,
    achievedRatePerSecond: round(sent / sendSeconds, 1),
    messagesSent: sent,
    sendFailures: failed,
    sendFailuresByStatus: failures,
    delivered: received.size,
    lost: sent - received.size,
    duplicates,
    deliveryMs: { p50: percentile(delivery, 50), p99: percentile(delivery, 99), max: delivery[delivery.length - 1] ?? null },
    endToEndMs: { p50: percentile(endToEnd, 50), p99: percentile(endToEnd, 99), max: endToEnd[endToEnd.length - 1] ?? null },
    targetMs: 500,
    ...machine(),
    note: 'every message crosses pods (sender and recipient on different realtime pods) via Redis pub/sub; deliveryMs = api commit → client frame',
  };
  await cleanup();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch(async (err) => {
  process.stderr.write(`bench:realtime failed: ${err.stack ?? err}\n`);
  await cleanup();
  process.exit(1);
});
