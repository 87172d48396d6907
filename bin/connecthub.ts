#!/usr/bin/env node
/**
 * The CDK app: one Stage per selected environment (`-c env=dev,staging,prod`; the default is all three).
 * Configuration problems are printed as one message, without a stack trace, and exit 1.
 */
import { ConfigValidationError } from '../lib/config/config-error';
import { createConnectHubApp } from '../lib/connecthub-app';

try {
  createConnectHubApp();
} catch (error) {
  if (error instanceof ConfigValidationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
