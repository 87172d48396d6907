import { Duration } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { ApiRegionalOrigin, EdgeHostedZone } from './edge-props';

/** Record name (below the zone) of the latency-routed API origin. */
export const API_ORIGIN_RECORD = 'api-origin';

/** Props of {@link ApiOriginRouting}. */
export interface ApiOriginRoutingProps {
  /** The zone that holds `api-origin.<zone>`. */
  readonly hostedZone: EdgeHostedZone;
  /** Regional API origins, primary first. */
  readonly apiOrigins: readonly ApiRegionalOrigin[];
  /** HTTPS health-check path of each regional API. */
  readonly healthCheckPath: string;
}

/**
 * `api-origin.<zone>`: one latency-routed CNAME per region, each tied to an HTTPS health check of that
 * region's API, so CloudFront's API origin resolves to the closest healthy region. The regional load
 * balancers must present a certificate valid for `api-origin.<zone>` (CloudFront connects with SNI).
 */
export class ApiOriginRouting extends Construct {
  /** The origin hostname CloudFront connects to. */
  readonly domainName: string;

  constructor(scope: Construct, id: string, props: ApiOriginRoutingProps) {
    super(scope, id);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZone.hostedZoneId,
      zoneName: props.hostedZone.zoneName,
    });
    this.domainName = `${API_ORIGIN_RECORD}.${props.hostedZone.zoneName}`;
    for (const origin of props.apiOrigins) {
      const healthCheck = new route53.HealthCheck(this, `Health-${origin.region}`, {
        type: route53.HealthCheckType.HTTPS,
        fqdn: origin.domainName,
        port: 443,
        resourcePath: props.healthCheckPath,
        enableSNI: true,
        requestInterval: Duration.seconds(30),
        failureThreshold: 3,
      });
      new route53.CnameRecord(this, `Latency-${origin.region}`, {
        zone,
        recordName: API_ORIGIN_RECORD,
        domainName: origin.domainName,
        region: origin.region,
        setIdentifier: `api-${origin.region}`,
        healthCheck,
        ttl: Duration.seconds(60),
      });
    }
  }
}
