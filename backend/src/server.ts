/**
 * Entry point of the image: `node dist/server.js` with CONNECTHUB_ROLE and the settings in the
 * environment. Bad configuration exits 1 naming each setting; SIGTERM drains and exits 0.
 *
 * The module also exports the service's building blocks (the bundle is what the tests load).
 */
import { ConfigError, loadConfig } from './config';
import { startService } from './service';

export { loadConfig, ConfigError } from './config';
export { startService } from './service';
export { createTracing } from './tracing';
export type { RunningService, ServiceOptions } from './service';
export { InProcessKafka } from './kafka/in-process';
export { OutboxRelay, ActivityConsumer, CacheWarmer } from './roles/worker';
export { Database } from './db';
export { Cache } from './cache';
export { CachedQueries, FEED_PAGE } from './queries';
export { Store } from './store';
export { Metrics } from './metrics';
export { createRedis, quitRedis } from './redis';
export { createLogger } from './logger';
export { newEvent, conversationId, userChannel } from './events';
export { decodeCursor, encodeCursor, SYNC_SAFETY_WINDOW_MS } from './sync';
export { formatTraceContext, parseTraceContext, MAX_STORED_TRACE_CONTEXT_LENGTH } from './trace-context';
export * as contract from './contract';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`connecthub-backend: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let service;
  try {
    service = await startService(config);
  } catch (err) {
    process.stderr.write(`connecthub-backend: could not start the ${config.role} role: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    service
      .shutdown(signal)
      .then((inTime) => process.exit(inTime ? 0 : 1))
      .catch(() => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (err) => service.log.error({ err }, 'unhandled rejection'));
}

if (require.main === module) {
  void main();
}
