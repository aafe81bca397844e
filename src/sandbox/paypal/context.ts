import type pg from 'pg';

/** What every part of the sandbox needs to know, built once by the plugin. */
export interface SandboxContext {
  pool: pg.Pool;
  /** `publicBaseUrl` without a trailing slash; HATEOAS links and the approve link start with it. */
  baseUrl: string;
  /** The merchant account the client credentials belong to (payee of every order). */
  merchantId: string;
  merchantEmail: string;
  webhookId: string;
  webhookUrl: () => string | undefined;
  timeoutScenarioDelayMs: number;
  pendingCompletionDelayMs: number;
  /** Business time: create/update times, expirations, when scheduled work is due. */
  now: () => Date;
  /** Called after a transaction that wrote webhook events or scheduled work has committed. */
  afterCommit: {
    deliverWebhooks(): void;
    runDueWorkAfter(delayMs: number): void;
  };
}
