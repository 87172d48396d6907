import { App, Duration, Stack } from 'aws-cdk-lib';
import { ConnectHubEdge } from '../../constructs/edge/connecthub-edge';
import { ConnectHubEdgeProps } from '../../constructs/edge/edge-props';
import { BASE_PROPS } from './edge-fixture';

/** Props are validated before any resource is created, so no synthesis happens here. */
function build(props: Partial<ConnectHubEdgeProps>, region: string | null): () => void {
  return () => {
    const app = new App();
    const stack = new Stack(app, 'Edge', region ? { env: { account: '111122223333', region } } : {});
    new ConnectHubEdge(stack, 'Edge', { ...BASE_PROPS, ...props });
  };
}

describe('ConnectHubEdge props validation', () => {
  it.each([
    ['a stack outside us-east-1', {}, 'eu-west-1', /stack region is "eu-west-1"; CloudFront, its WAF web ACL \(scope CLOUDFRONT\) and its certificate must be deployed in us-east-1/],
    ['an environment-agnostic stack', {}, null, /stack region is not set \(environment-agnostic stack\)/],
    ['no API origin', { apiOrigins: [] }, 'us-east-1', /apiOrigins is empty/],
    ['primary not first', { apiOrigins: [...BASE_PROPS.apiOrigins].reverse() }, 'us-east-1', /apiOrigins\[0\]\.region "eu-west-1" must be the primary region "us-east-1" \(primary first\)/],
    ['a region twice', { apiOrigins: [BASE_PROPS.apiOrigins[0], BASE_PROPS.apiOrigins[0]] }, 'us-east-1', /apiOrigins\[1\]\.region "us-east-1" is listed twice/],
    ['a bad origin host', { apiOrigins: [{ ...BASE_PROPS.apiOrigins[0], api: { ...BASE_PROPS.apiOrigins[0].api, domainName: 'http://lb' } }] }, 'us-east-1', /apiOrigins\[0\]\.api\.domainName "http:\/\/lb" is not a DNS name/],
    ['an ALB instead of an NLB', { apiOrigins: [{ ...BASE_PROPS.apiOrigins[0], realtime: { ...BASE_PROPS.apiOrigins[0].realtime, loadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/web/0123456789abcdef' } }] }, 'us-east-1', /apiOrigins\[0\]\.realtime\.loadBalancerArn "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer\/app\/web\/0123456789abcdef" is not a Network Load Balancer ARN/],
    ['a load balancer of another region', { apiOrigins: [{ ...BASE_PROPS.apiOrigins[0], api: BASE_PROPS.apiOrigins[1].api }] }, 'us-east-1', /apiOrigins\[0\]\.api\.loadBalancerArn ".*" is in "eu-west-1", not in its entry's region "us-east-1"/],
    ['a missing realtime NLB', { apiOrigins: [{ region: 'us-east-1', api: BASE_PROPS.apiOrigins[0].api }] }, 'us-east-1', /apiOrigins\[0\]\.realtime is missing; give the realtime NLB's loadBalancerArn and domainName/],
    ['an active region without origins', { activeApiRegion: 'ap-southeast-1' }, 'us-east-1', /activeApiRegion "ap-southeast-1" has no entry in apiOrigins \(regions: \["us-east-1","eu-west-1"\]\)/],
    ['auto-delete on retained buckets', { autoDeleteObjects: true }, 'us-east-1', /autoDeleteObjects is true but removalPolicy is "retain"; emptying buckets on delete needs removalPolicy RemovalPolicy\.DESTROY/],
    ['a bad primary region', { primaryRegion: 'Virginia' }, 'us-east-1', /primaryRegion "Virginia" is not an AWS region name/],
    ['a certificate outside us-east-1', { certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/abc-123', aliases: ['a.example.com'] }, 'us-east-1', /must be in us-east-1/],
    ['a certificate without aliases', { certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc-123' }, 'us-east-1', /certificateArn is set but aliases is empty/],
    ['aliases without a certificate', { aliases: ['a.example.com'] }, 'us-east-1', /aliases \["a.example.com"\] need certificateArn/],
    ['a lower-case country', { geoRestriction: { type: 'deny', countries: ['kp'] } }, 'us-east-1', /geoRestriction\.countries\[0\] "kp" is not an ISO 3166-1 alpha-2 code/],
    ['an empty country list', { geoRestriction: { type: 'allow', countries: [] } }, 'us-east-1', /geoRestriction\.countries is empty/],
    ['unsorted widths', { imageOptimization: { widths: [640, 320] } }, 'us-east-1', /imageOptimization\.widths \[640,320\] must be strictly ascending/],
    ['inverted qualities', { imageOptimization: { minQuality: 80, maxQuality: 60 } }, 'us-east-1', /min 80, default 75, max 60 must be integers with 1 <= min <= default <= max <= 100/],
    ['a tiny pixel limit', { imageOptimization: { maxInputPixels: 10 } }, 'us-east-1', /imageOptimization\.maxInputPixels 10 must be an integer 1000000\.\.268402689/],
    ['a rate limit below 10', { waf: { rateLimit: 5 } }, 'us-east-1', /waf\.rateLimit 5 must be an integer 10\.\.2000000000/],
    ['an unsupported rate window', { waf: { rateLimitWindow: Duration.minutes(3) } }, 'us-east-1', /waf\.rateLimitWindow 3 minutes must be 60, 120, 300 or 600 seconds/],
    ['a missing static folder', { staticAssetsPath: '/nonexistent/site' }, 'us-east-1', /staticAssetsPath "\/nonexistent\/site" is not a directory/],
    ['a long batching window', { invalidationBatchWindow: Duration.minutes(10) }, 'us-east-1', /invalidationBatchWindow 10 minutes must be 0\.\.300 seconds/],
  ])('rejects %s', (_name, props, region, message) => {
    expect(build(props as Partial<ConnectHubEdgeProps>, region)).toThrow(message);
  });

  it('reports every problem in one error', () => {
    let error: Error | undefined;
    try {
      build({ primaryRegion: 'mars-1', waf: { rateLimit: 1 }, imageOptimization: { widths: [] } }, 'eu-west-1')();
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message.split('\n')[0]).toBe('ConnectHubEdge: invalid props:');
    expect(error?.message).toMatch(/stack region is "eu-west-1"/);
    expect(error?.message).toMatch(/primaryRegion "mars-1"/);
    expect(error?.message).toMatch(/waf\.rateLimit 1/);
    expect(error?.message).toMatch(/imageOptimization\.widths has 0 entries/);
  });
});
