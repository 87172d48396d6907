import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { parameterName } from './shared-parameters';

/** Props of {@link CrossRegionParameter}. */
export interface CrossRegionParameterProps {
  /** Environment name (part of the parameter name). */
  readonly envName: string;
  /** Region whose stack published the value. */
  readonly sourceRegion: string;
  /** Shared-parameter key, e.g. `platform/api-load-balancer-hostname`. */
  readonly key: string;
  /**
   * VPC for the reading function.
   * @default - not in a VPC (the edge stack has none)
   */
  readonly vpc?: ec2.IVpc;
}

/**
 * Reads a shared parameter that a stack in another region published (SSM parameters are regional), through a
 * deploy-time `ssm:GetParameter` on exactly that parameter. The value is read when this resource is created or its
 * properties change; after re-publishing a value, redeploy the consumer with `-c refreshCrossRegion=<anything new>`.
 */
export class CrossRegionParameter extends Construct {
  /** The value, a deploy-time reference. */
  public readonly value: string;

  constructor(scope: Construct, id: string, props: CrossRegionParameterProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = parameterName(props.envName, props.sourceRegion, props.key);
    const refresh = this.node.tryGetContext('refreshCrossRegion');
    const read = new cr.AwsCustomResource(this, 'Read', {
      resourceType: 'Custom::CrossRegionParameter',
      onUpdate: {
        service: 'SSM',
        action: 'getParameter',
        parameters: { Name: name, ...(refresh ? { RefreshToken: String(refresh) } : {}) },
        region: props.sourceRegion,
        physicalResourceId: cr.PhysicalResourceId.of(name),
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({
        resources: [stack.formatArn({ service: 'ssm', region: props.sourceRegion, resource: 'parameter', resourceName: name.slice(1) })],
      }),
      installLatestAwsSdk: false,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
    });
    this.value = read.getResponseField('Parameter.Value');
    const policy = read.node.tryFindChild('CustomResourcePolicy')?.node.defaultChild;
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason: 'Written by CDK for this custom resource: one statement, ssm:GetParameter on the single parameter read.',
      });
    }
    acknowledgeAwsCustomResourceFunction(stack, props.vpc !== undefined);
  }
}

/** The id AwsCustomResource gives its stack-level singleton function (fixed in aws-cdk-lib). */
const AWS_CUSTOM_RESOURCE_SINGLETON_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

/**
 * Acknowledges, on the stack's AwsCustomResource singleton function only, the findings that come from CDK's own
 * implementation of that function rather than from anything configured here.
 */
export function acknowledgeAwsCustomResourceFunction(stack: Stack, inVpc: boolean): void {
  const fn = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON_ID);
  if (!fn) return;
  const acknowledge = (target: Construct, id: string, reason: string) => Validations.of(target).acknowledge({ id, reason });
  const role = fn.node.tryFindChild('ServiceRole');
  if (role) {
    acknowledge(role as Construct, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK AwsCustomResource function: the AWS managed basic-execution policy only allows writing its own logs.');
    if (inVpc) {
      acknowledge(role as Construct, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        'CDK AwsCustomResource function runs in the VPC; the AWS managed VPC-access policy only manages its network interfaces.');
    }
  }
  acknowledge(fn as Construct, 'NIST.800.53.R5-LambdaConcurrency',
    'Deploy-time custom-resource function, invoked by CloudFormation a few times per deployment; a concurrency limit protects nothing.');
  acknowledge(fn as Construct, 'NIST.800.53.R5-LambdaDLQ',
    'Synchronous CloudFormation custom resource: a failure fails and rolls back the deployment; there is no asynchronous event to dead-letter.');
  const logGroup = fn.node.tryFindChild('LogGroup')?.node.defaultChild;
  if (logGroup) {
    acknowledge(logGroup as Construct, 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      'Log group CDK creates for its AwsCustomResource function: it records deploy-time SDK calls and their public results (parameter names, load-balancer hostnames), no customer data.');
  }
  if (!inVpc) {
    acknowledge(fn as Construct, 'NIST.800.53.R5-LambdaInsideVPC',
      'Reads one SSM parameter in another region at deploy time; this global stack has no VPC, and the call goes to the public SSM endpoint over TLS.');
  }
}
