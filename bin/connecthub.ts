#!/usr/bin/env node
/**
 * The CDK app: one Stage per selected environment (`-c env=dev,staging,prod`; the default is all three).
 * Configuration problems are printed as one message, without a stack trace, and exit 1.
 */
import { App } from 'aws-cdk-lib';
import { ConfigValidationError } from '../lib/config/config-error';
import { resolveEnvironments } from '../lib/config/resolve-environments';
import { ConnectHubStage } from '../lib/connecthub-stage';
import { addSecurityChecks } from '../lib/security-gates';

const app = new App();
let environments;
try {
  environments = resolveEnvironments((key) => app.node.tryGetContext(key));
} catch (error) {
  if (error instanceof ConfigValidationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
addSecurityChecks(app);
for (const config of environments) {
  new ConnectHubStage(app, { config });
}
