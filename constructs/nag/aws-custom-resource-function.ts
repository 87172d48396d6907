import { Stack, Validations } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/** The id AwsCustomResource gives its stack-level singleton function (fixed in aws-cdk-lib). */
export const AWS_CUSTOM_RESOURCE_SINGLETON_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

/**
 * Acknowledges, on the stack's AwsCustomResource singleton function only (shared by every AwsCustomResource of the
 * stack), the findings that come from CDK's own implementation of that function rather than from anything the
 * project configures. Call it after the stack's AwsCustomResources exist; calling it again is harmless.
 */
export function acknowledgeAwsCustomResourceFunction(stack: Stack, options: { readonly inVpc: boolean }): void {
  const fn = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON_ID);
  if (!fn) return;
  const acknowledge = (target: IConstruct, id: string, reason: string) => Validations.of(target).acknowledge({ id, reason });
  const role = fn.node.tryFindChild('ServiceRole');
  if (role) {
    acknowledge(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK AwsCustomResource function: the AWS managed basic-execution policy only allows writing its own logs.');
    if (options.inVpc) {
      acknowledge(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        'CDK AwsCustomResource function runs in the VPC; the AWS managed VPC-access policy only manages its network interfaces.');
    }
  }
  acknowledge(fn, 'NIST.800.53.R5-LambdaConcurrency',
    'Deploy-time custom-resource function, invoked by CloudFormation a few times per deployment; a concurrency limit protects nothing.');
  acknowledge(fn, 'NIST.800.53.R5-LambdaDLQ',
    'Synchronous CloudFormation custom resource: a failure fails and rolls back the deployment; there is no asynchronous event to dead-letter.');
  const logGroup = fn.node.tryFindChild('LogGroup')?.node.defaultChild;
  if (logGroup) {
    acknowledge(logGroup as Construct, 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      'Log group CDK creates for its AwsCustomResource function: it records deploy-time SDK calls and their results (names, ARNs, hostnames), no customer data.');
  }
  if (!options.inVpc) {
    acknowledge(fn, 'NIST.800.53.R5-LambdaInsideVPC',
      'Deploy-time SDK calls from a stack without a VPC (the global edge stack); the calls go to public AWS endpoints over TLS.');
  }
}
