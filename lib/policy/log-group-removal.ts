import { CfnResource, IAspect, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';

/**
 * Gives every log group of an environment the environment's removal policy: staging and prod keep their logs (audit
 * evidence) when a stack or function is replaced; dev and pr-N delete them with the stack. Log groups are created by
 * many constructs (ours and CDK's own providers); one aspect keeps them consistent instead of a prop in each.
 */
export class LogGroupRemovalPolicy implements IAspect {
  constructor(private readonly policy: RemovalPolicy) {}

  public visit(node: IConstruct): void {
    if (node instanceof logs.CfnLogGroup) (node as CfnResource).applyRemovalPolicy(this.policy);
  }
}
