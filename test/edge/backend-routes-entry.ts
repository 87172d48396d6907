import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../backend/src/config';
import { createHttpServer } from '../../backend/src/http';
import { createLogger } from '../../backend/src/logger';
import { Metrics } from '../../backend/src/metrics';
import { registerApi } from '../../backend/src/roles/api';
import { RealtimeHub, registerRealtime } from '../../backend/src/roles/realtime';

export interface BackendRoute {
  readonly method: string;
  /** The route as registered, with `:param` placeholders (`/v1/users/:userId`). */
  readonly url: string;
}

const BASE_ENV = {
  DATABASE_WRITER_HOST: 'db.invalid',
  DATABASE_NAME: 'connecthub',
  DATABASE_USER: 'connecthub',
  REDIS_ENDPOINT: 'cache.invalid:6379',
  JWT_ISSUER: 'https://idp.invalid/',
  JWT_AUDIENCE: 'connecthub',
  JWT_JWKS_URL: 'https://idp.invalid/jwks',
  LOG_LEVEL: 'silent',
};

/**
 * The HTTP routes one backend role serves, collected from the role's real registration code (the same calls
 * `startService` makes) with an `onRoute` hook. Nothing listens and nothing connects: the routes are registered and
 * the server is closed at once, so the database, Redis and JWKS handles are never used.
 * Bundled with esbuild by `backend-routes.ts` (the backend's `jose` is ESM-only, which jest cannot require).
 */
export async function backendRoutes(role: 'api' | 'realtime'): Promise<BackendRoute[]> {
  const config = loadConfig({ ...BASE_ENV, CONNECTHUB_ROLE: role });
  const log = createLogger('silent', role);
  const metrics = new Metrics(role);
  const http = createHttpServer(config, log, metrics, async () => ({}));
  const app: FastifyInstance = http.app;
  const routes: BackendRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  const unused = undefined as never;
  if (role === 'api') {
    registerApi(app, { config, log, db: unused, redis: unused, cache: unused });
  } else {
    const hub = { hasCapacity: () => true, drain: async () => undefined } as unknown as RealtimeHub;
    await registerRealtime(app, { config, log, metrics, redis: unused, subscriber: unused }, hub, () => 0);
  }
  await app.ready();
  await app.close();
  return routes;
}
