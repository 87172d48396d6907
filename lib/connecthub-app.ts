import * as fs from 'fs';
import * as path from 'path';
import { App, AppProps } from 'aws-cdk-lib';
import { EnvironmentConfig } from './config/environment-config';
import { resolveEnvironments } from './config/resolve-environments';
import { ConnectHubStage } from './connecthub-stage';
import { addSecurityChecks } from './security-gates';

/** The feature flags and settings of cdk.json, for apps built outside the CLI (tests, audit tools). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'));
  return cdkJson.context ?? {};
}

/** The app: one stage per selected environment, with the security gates. Throws ConfigValidationError on bad config. */
export function createConnectHubApp(props: AppProps = {}): { app: App; environments: EnvironmentConfig[] } {
  const app = new App(props);
  const environments = resolveEnvironments((key) => app.node.tryGetContext(key));
  addSecurityChecks(app);
  for (const config of environments) new ConnectHubStage(app, { config });
  return { app, environments };
}
