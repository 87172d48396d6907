import { Duration } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';

/** Props of {@link EdgePolicies}. */
export interface EdgePoliciesProps {
  /** Content-Security-Policy of the static site. */
  readonly contentSecurityPolicy: string;
}

/** Cache TTLs of the plan (Step 5.2), in one place. */
export const EDGE_TTLS = {
  /** Static assets: 24 hours at the edge and in browsers. */
  static: Duration.hours(24),
  /** Content-hashed build output under /assets/: immutable for a year. */
  immutable: Duration.days(365),
  /** Media and derived images: 7 days at the edge. */
  media: Duration.days(7),
  /** Upper bound an origin Cache-Control may ask for. */
  max: Duration.days(365),
} as const;

/** Headers the WebSocket handshake needs at the realtime gateway. */
export const WEBSOCKET_HEADERS = [
  'Sec-WebSocket-Key',
  'Sec-WebSocket-Version',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Extensions',
  'Origin',
  'User-Agent',
] as const;

/**
 * Cache, origin-request and response-headers policies of the ConnectHub distribution.
 * Every cache policy enables gzip and brotli (so CloudFront compresses and caches both encodings).
 */
export class EdgePolicies extends Construct {
  readonly staticCache: cloudfront.CachePolicy;
  readonly immutableCache: cloudfront.CachePolicy;
  readonly mediaCache: cloudfront.CachePolicy;
  readonly imageCache: cloudfront.CachePolicy;
  readonly webSocketOriginRequest: cloudfront.OriginRequestPolicy;
  /** Security headers + CSP + browser caching of 24 h (origin Cache-Control wins when present). */
  readonly staticHeaders: cloudfront.ResponseHeadersPolicy;
  /** Security headers + CSP + `Cache-Control: public, max-age=31536000, immutable`. */
  readonly immutableHeaders: cloudfront.ResponseHeadersPolicy;
  /** Security headers for media, API and WebSocket responses (no CSP: not HTML). */
  readonly defaultHeaders: cloudfront.ResponseHeadersPolicy;
  /** Security headers + `Vary: Accept` for negotiated images. */
  readonly imageHeaders: cloudfront.ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: EdgePoliciesProps) {
    super(scope, id);

    const cachePolicy = (cid: string, comment: string, defaultTtl: Duration, minTtl: Duration) =>
      new cloudfront.CachePolicy(this, cid, {
        comment,
        defaultTtl,
        minTtl,
        maxTtl: EDGE_TTLS.max,
        enableAcceptEncodingGzip: true,
        enableAcceptEncodingBrotli: true,
        headerBehavior: cloudfront.CacheHeaderBehavior.none(),
        cookieBehavior: cloudfront.CacheCookieBehavior.none(),
        queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      });
    this.staticCache = cachePolicy('StaticCachePolicy', 'ConnectHub static assets: 24 h', EDGE_TTLS.static, Duration.seconds(0));
    this.immutableCache = cachePolicy('ImmutableAssetsCachePolicy', 'ConnectHub content-hashed assets: 1 year', EDGE_TTLS.immutable, EDGE_TTLS.immutable);
    this.mediaCache = cachePolicy('MediaCachePolicy', 'ConnectHub media: 7 days', EDGE_TTLS.media, Duration.seconds(0));
    // The viewer-request function folds Accept/width/quality into the URI, so the URI alone is the key.
    this.imageCache = cachePolicy('ImageCachePolicy', 'ConnectHub derived images: 7 days, key = normalized URI', EDGE_TTLS.media, Duration.seconds(0));

    this.webSocketOriginRequest = new cloudfront.OriginRequestPolicy(this, 'WebSocketOriginRequestPolicy', {
      comment: 'ConnectHub WebSocket: handshake headers, all query strings and cookies',
      headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList(...WEBSOCKET_HEADERS),
      queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.all(),
    });

    const security = (csp: boolean): cloudfront.ResponseSecurityHeadersBehavior => ({
      strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: false, override: true },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
      ...(csp ? { contentSecurityPolicy: { contentSecurityPolicy: props.contentSecurityPolicy, override: true } } : {}),
    });

    this.staticHeaders = new cloudfront.ResponseHeadersPolicy(this, 'StaticHeadersPolicy', {
      comment: 'ConnectHub static: security headers, CSP, browser cache 24 h',
      securityHeadersBehavior: security(true),
      customHeadersBehavior: {
        customHeaders: [{ header: 'Cache-Control', value: `public, max-age=${EDGE_TTLS.static.toSeconds()}`, override: false }],
      },
    });
    this.immutableHeaders = new cloudfront.ResponseHeadersPolicy(this, 'ImmutableHeadersPolicy', {
      comment: 'ConnectHub hashed assets: security headers, CSP, immutable 1 year',
      securityHeadersBehavior: security(true),
      customHeadersBehavior: {
        customHeaders: [{ header: 'Cache-Control', value: `public, max-age=${EDGE_TTLS.immutable.toSeconds()}, immutable`, override: true }],
      },
    });
    this.defaultHeaders = new cloudfront.ResponseHeadersPolicy(this, 'DefaultHeadersPolicy', {
      comment: 'ConnectHub media/API: security headers',
      securityHeadersBehavior: security(false),
    });
    this.imageHeaders = new cloudfront.ResponseHeadersPolicy(this, 'ImageHeadersPolicy', {
      comment: 'ConnectHub images: security headers, Vary: Accept',
      securityHeadersBehavior: security(false),
      customHeadersBehavior: { customHeaders: [{ header: 'Vary', value: 'Accept', override: true }] },
    });
  }
}
