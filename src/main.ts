import { loadConfig } from './config.ts';
import { demoCurlExample, ensureDemoProject } from './demo.ts';
import { createLogger, startPlatform } from './platform.ts';

/**
 * `npm start`: one Gatehouse node. With no DATABASE_URL it runs an embedded
 * PostgreSQL in DATA_DIR. Stops cleanly on SIGTERM/SIGINT: HTTP first, then
 * the job workers, then the pool, then the embedded server.
 */
const config = loadConfig();
const log = createLogger(config.logLevel);
const platform = await startPlatform(config, log);
log.info({ url: config.publicUrl }, 'gatehouse started');

if (config.seedDemoProject) {
  const demo = await ensureDemoProject(platform.context.pool);
  // Printed once to the terminal for the demo *test* project only (it moves no
  // real money); the logger never sees a secret key.
  process.stdout.write(
    [
      '',
      'Gatehouse is running.',
      `  Gate API:        ${config.publicGateUrl}/v2/payment/wallet/paypal/{sale|auth|capture|cancel|refund|payout}`,
      `  Status:          ${config.publicGateUrl}/v2/payment/status`,
      `  PayPal sandbox:  ${config.publicSandboxUrl}`,
      `  Demo test project: project_id=${demo.id} secret_key=${demo.secretKey}`,
      '',
      'Try a signed sale:',
      `  ${demoCurlExample(config.publicGateUrl, demo)}`,
      '',
    ].join('\n') + '\n',
  );
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  const forceExit = setTimeout(() => process.exit(1), 30_000);
  forceExit.unref();
  try {
    await platform.stop();
    log.info('stopped');
    process.exit(0);
  } catch (error) {
    log.error({ err: error }, 'unclean stop');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
