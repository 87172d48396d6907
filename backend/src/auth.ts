/**
 * JWT bearer authentication: RS256/ES256 tokens verified against the issuer's JWKS (fetched from
 * `JWT_JWKS_URL`, cached, refetched on an unknown `kid`), checking issuer, audience and expiry.
 */
import { createRemoteJWKSet, errors, jwtVerify, JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from './config';

export interface Principal {
  /** The user id (`sub`), a UUID. */
  readonly userId: string;
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

export class Authenticator {
  private readonly keys: JWTVerifyGetKey;

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
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ['RS256', 'ES256'],
        clockTolerance: 5,
        requiredClaims: ['sub', 'exp'],
      });
      if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) {
        throw new AuthError(401, 'token_invalid', 'token claim "sub" must be a user id (UUID)');
      }
      return { userId: payload.sub.toLowerCase() };
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
