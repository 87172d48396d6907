/**
 * JWT bearer authentication: RS256/ES256 tokens verified against the issuer's JWKS (fetched from
 * `JWT_JWKS_URL`, cached, refetched on an unknown `kid`), checking issuer, audience and expiry.
 */
import { createRemoteJWKSet, errors, jwtVerify, JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from './config';

export interface Principal {
  /** The user id (`sub`), a UUID. */
  readonly userId: string;
  /** When the token stops being accepted (`exp` plus the clock tolerance), ms since the epoch. */
  readonly expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook. */
    principal?: Principal;
  }
}

/** An authentication failure with the HTTP status and a message safe to return to the client. */
export class AuthError extends Error {
  constructor(
    readonly statusCode: 401 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Seconds of clock skew with the issuer a token's `exp` and `nbf` are allowed. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** Verified tokens are remembered this long (or until they expire), so a JWKS key withdrawal takes effect within it. */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKEN_ENTRIES = 20_000;

export class Authenticator {
  private readonly keys: JWTVerifyGetKey;
  /**
   * Tokens whose signature and claims verified recently (RS256 verification costs ~0.5 ms of CPU,
   * more than the rest of a cached read). Exact token strings only; expiry is still enforced.
   */
  private readonly verified = new Map<string, { principal: Principal; validUntil: number }>();

  constructor(private readonly config: JwtConfig) {
    this.keys = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 2_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  }

  /** Extracts the token from `Authorization: Bearer …`. */
  static bearer(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const m = /^Bearer\s+([A-Za-z0-9_.-]+)$/i.exec(header.trim());
    return m ? m[1] : undefined;
  }

  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new AuthError(401, 'token_missing', 'authentication required: send "Authorization: Bearer <token>"');
    const now = Date.now();
    const known = this.verified.get(token);
    if (known) {
      if (known.validUntil > now) return known.principal;
      this.verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ['RS256', 'ES256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp'],
      });
      if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) {
        throw new AuthError(401, 'token_invalid', 'token claim "sub" must be a user id (UUID)');
      }
      const principal = { userId: payload.sub.toLowerCase(), expiresAt: ((payload.exp as number) + CLOCK_TOLERANCE_SECONDS) * 1000 };
      if (this.verified.size >= VERIFIED_TOKEN_ENTRIES) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, { principal, validUntil: Math.min(now + VERIFIED_TOKEN_TTL_MS, (payload.exp as number) * 1000) });
      return principal;
    } catch (err) {
      if (err instanceof AuthError) throw err;
      if (err instanceof errors.JWTExpired) throw new AuthError(401, 'token_expired', 'token expired; obtain a new one');
      if (err instanceof errors.JWTClaimValidationFailed) {
        throw new AuthError(401, 'token_invalid', `token claim "${err.claim}" is not accepted (${err.reason})`);
      }
      if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || (err as Error).name === 'TypeError') {
        throw new AuthError(503, 'jwks_unavailable', 'token keys cannot be fetched from the identity provider; retry later');
      }
      if (err instanceof errors.JWKSNoMatchingKey) throw new AuthError(401, 'token_invalid', 'token signed by an unknown key');
      throw new AuthError(401, 'token_invalid', 'token is malformed or its signature does not verify');
    }
  }
}
