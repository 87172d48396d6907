import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** Props of {@link LoadBalancerLookup}. */
export interface LoadBalancerLookupProps {
  /** Name of the load balancer in this stack's region (letters, digits, `-`; at most 32 characters). */
  readonly loadBalancerName: string;
  /**
   * VPC the reading function runs in (private subnets with egress to the Elastic Load Balancing API).
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;
}

const LB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

/**
 * Looks a load balancer up by name at deploy time (`elasticloadbalancing:DescribeLoadBalancers`) and exposes its ARN
 * and DNS name. Used for NLBs that a Kubernetes controller creates (EKS Auto Mode), whose ARN CloudFormation never
 * sees. Add a dependency on whatever makes the load balancer exist; the lookup fails the deployment if it is absent.
 * The lookup runs when the resource is created or its name changes.
 */
export class LoadBalancerLookup extends Construct {
  /** ARN of the load balancer (deploy-time value). */
  public readonly loadBalancerArn: string;
  /** DNS name of the load balancer (deploy-time value). */
  public readonly dnsName: string;
  /** The underlying custom resource (add dependencies on it). */
  public readonly resource: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: LoadBalancerLookupProps) {
    super(scope, id);
    const name = props.loadBalancerName;
    if (typeof name !== 'string' || Token.isUnresolved(name) || !LB_NAME.test(name) || name.startsWith('internal-')) {
      throw new Error(`LoadBalancerLookup: loadBalancerName=${JSON.stringify(name)}: a literal load balancer name, 1-32 letters, digits or "-", not starting or ending with "-" nor starting with "internal-"`);
    }
    this.resource = new cr.AwsCustomResource(this, 'Describe', {
      resourceType: 'Custom::LoadBalancerLookup',
      onUpdate: {
        service: 'ElasticLoadBalancingV2',
        action: 'describeLoadBalancers',
        parameters: { Names: [name] },
        physicalResourceId: cr.PhysicalResourceId.of(`${Stack.of(this).region}/${name}`),
        // Keep the response small (a custom resource answer is limited to 4 KB).
        outputPaths: ['LoadBalancers.0.LoadBalancerArn', 'LoadBalancers.0.DNSName'],
      },
      // DescribeLoadBalancers does not support resource-level permissions: `*` is the only resource it accepts.
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['elasticloadbalancing:DescribeLoadBalancers'], resources: ['*'] }),
      ]),
      installLatestAwsSdk: false,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
    });
    this.loadBalancerArn = this.resource.getResponseField('LoadBalancers.0.LoadBalancerArn');
    this.dnsName = this.resource.getResponseField('LoadBalancers.0.DNSName');

    const policy = this.resource.node.tryFindChild('CustomResourcePolicy')?.node.defaultChild;
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'elasticloadbalancing:DescribeLoadBalancers supports no resource-level permissions (the service authorization reference lists "*" only); the statement allows that one read-only action and nothing else.',
      });
      Validations.of(policy).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason: 'Written by CDK for this custom resource: one statement, the read-only elasticloadbalancing:DescribeLoadBalancers.',
      });
    }
  }
}
