/** Structured JSON logs on stdout (one object per line), as the cluster's log shipper expects. */
import pino, { Logger } from 'pino';

export function createLogger(level: string, role: string): Logger {
  return pino({
    level,
    base: { role },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers["sec-websocket-protocol"]', 'password'], censor: '[redacted]' },
  });
}
export type { Logger };
