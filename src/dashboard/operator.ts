import { Type, type Static } from '@sinclair/typebox';
import type pg from 'pg';
import { listAudit } from '../accounts/audit.ts';
import { defaultValidUntil, pciDocumentKinds, type PciDocumentKind } from '../accounts/compliance.ts';
import { createMerchant, createMerchantProject, findMerchant, listMerchants, merchantView, projectIdsOfMerchant } from '../accounts/merchants.ts';
import { clientIdPattern, clientSecretPattern, paypalCredentialsView, setPaypalCredentials } from '../accounts/paypal-credentials.ts';
import { mayMove, onboardingStates, paypalPermissions, type OnboardingState } from '../accounts/paypal-onboarding.ts';
import { listUsers, merchantRoles, userView } from '../accounts/users.ts';
import { GateError } from '../domain/errors.ts';
import { Secret } from '../domain/secret.ts';
import { checkMerchantUrls } from '../gate/purchase-rules.ts';
import { checkLedger } from '../ledger/check.ts';
import { feeOperationTypes } from '../ledger/rules.ts';
import { allowsPrivateUrls, type PlatformContext } from '../processing/context.ts';
import { findProject, lastFourOf, type Project, type ProjectMode } from '../store/projects.ts';
import { limitParameter, queryParameters } from './documentation.ts';
import { audited, decodeCursor, encodeCursor, idParameter, parseLimit, type RouteDefinition, type SignedCall } from './http.ts';
import { feesOf, projectViews } from './projects.ts';
import { createCheckedUser, merchantPciSummary } from './users.ts';

/**
 * The operator console's API (`/dashboard/api/operator/...`, role
 * `operator` only): merchants and their projects and first users, PayPal
 * onboarding and PayPal credentials per project, PCI DSS documents per
 * merchant, project fees, the FX table, the whole audit log and the ledger
 * check.
 */
const operatorOnly = ['operator'] as const;
const tags = ['Dashboard: operator'] as const;

const MerchantBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
const OperatorUserBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' }),
    role: Type.Union(merchantRoles.map((role) => Type.Literal(role))),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
const ProjectBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    mode: Type.Union([Type.Literal('test'), Type.Literal('production')]),
    callback_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://[^\\s]+$' })),
  },
  { additionalProperties: false },
);
const OnboardingBody = Type.Object(
  {
    state: Type.Union(onboardingStates.map((state) => Type.Literal(state))),
    onboarding_link: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: '^https://[^\\s]+$' })),
    paypal_merchant_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
    permissions: Type.Optional(Type.Array(Type.Union(paypalPermissions.map((permission) => Type.Literal(permission))), { minItems: 1, maxItems: 2, uniqueItems: true })),
  },
  { additionalProperties: false },
);
const PaypalCredentialsBody = Type.Object(
  {
    client_id: Type.String({ pattern: clientIdPattern, description: "The REST app's client id at PayPal." }),
    client_secret: Type.String({ pattern: clientSecretPattern, description: 'Its secret: stored encrypted, never shown again (answers show the last 4 characters).' }),
  },
  { additionalProperties: false },
);
const FeesBody = Type.Object(
  {
    fees: Type.Array(
      Type.Object(
        {
          operation_type: Type.Union(feeOperationTypes.map((type) => Type.Literal(type))),
          percent_basis_points: Type.Integer({ minimum: 0, maximum: 10_000 }),
          fixed_minor: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: feeOperationTypes.length },
    ),
  },
  { additionalProperties: false },
);
const PciBody = Type.Object(
  {
    kind: Type.Union(pciDocumentKinds.map((kind) => Type.Literal(kind))),
    issued_on: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    valid_until: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    reference: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const RateBody = Type.Object({ rate: Type.String({ pattern: '^(0|[1-9][0-9]{0,11})(\\.[0-9]{1,12})?$' }) }, { additionalProperties: false });

function isDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/**
 * Moves a project's PayPal onboarding one step (the transition table in
 * src/accounts/paypal-onboarding.ts), under the onboarding row's lock.
 */
async function moveOnboarding(tx: pg.PoolClient, project: Project, move: Static<typeof OnboardingBody>): Promise<void> {
  const target = move.state as OnboardingState;
  const { rows } = await tx.query<{ state: OnboardingState; paypal_merchant_id: string | null; permissions: string[] }>(
    'SELECT state, paypal_merchant_id, permissions FROM paypal_onboarding WHERE project_id = $1 FOR UPDATE',
    [String(project.id)],
  );
  const current = rows[0];
  if (!mayMove(current?.state, target)) throw new GateError('onboardingStepNotAllowed', `${current?.state ?? 'none'} -> ${target}`);
  if (target === 'rights_granted' && (!move.paypal_merchant_id || !move.permissions?.length)) {
    throw new GateError('requiredFieldMissing', 'paypal_merchant_id and permissions are required when rights are granted');
  }
  // A restart (requested again after a revocation) forgets the old link, merchant id and rights.
  const restart = target === 'requested';
  if (!current) {
    await tx.query(`INSERT INTO paypal_onboarding (project_id, state, onboarding_link) VALUES ($1, $2, $3)`, [
      String(project.id),
      target,
      move.onboarding_link ?? null,
    ]);
  } else {
    await tx.query(
      `UPDATE paypal_onboarding SET state = $2,
         onboarding_link = CASE WHEN $6 THEN $3 ELSE COALESCE($3, onboarding_link) END,
         paypal_merchant_id = CASE WHEN $6 THEN NULL ELSE COALESCE($4, paypal_merchant_id) END,
         permissions = CASE WHEN $6 THEN ARRAY[]::text[] ELSE COALESCE($5::text[], permissions) END,
         updated_at = now()
       WHERE project_id = $1`,
      [String(project.id), target, move.onboarding_link ?? null, move.paypal_merchant_id ?? null, move.permissions ?? null, restart],
    );
  }
  // A production project takes PayPal payments only once onboarding is complete, and stops when rights are revoked.
  if (project.mode === 'production' && (target === 'ready' || target === 'revoked')) {
    await tx.query('UPDATE projects SET paypal_enabled = $2 WHERE id = $1', [String(project.id), target === 'ready']);
  }
}

export function operatorRoutes(context: PlatformContext): RouteDefinition[] {
  async function merchantOf(merchantIdText: string | undefined) {
    const merchant = await findMerchant(context.pool, idParameter(merchantIdText));
    if (!merchant) throw new GateError('dashboardNotFound', `merchant ${merchantIdText}`);
    return merchant;
  }
  async function anyProject(projectIdText: string | undefined, now: Date) {
    const project = await findProject(context.pool, idParameter(projectIdText), now);
    if (!project) throw new GateError('dashboardNotFound', `project ${projectIdText}`);
    const { rows } = await context.pool.query<{ merchant_id: string | null }>('SELECT merchant_id::text AS merchant_id FROM projects WHERE id = $1', [String(project.id)]);
    return { project, merchantId: rows[0].merchant_id === null ? null : BigInt(rows[0].merchant_id) };
  }
  async function onboardingOf(projectId: bigint) {
    const { rows } = await context.pool.query(
      `SELECT project_id::int AS project_id, state, onboarding_link, paypal_merchant_id, permissions, updated_at FROM paypal_onboarding WHERE project_id = $1`,
      [String(projectId)],
    );
    return rows[0] ? { ...rows[0], updated_at: rows[0].updated_at.toISOString() } : null;
  }

  return [
    {
      method: 'GET',
      url: '/operator/merchants',
      access: operatorOnly,
      summary: 'Merchants',
      description: 'Each with its project ids and PCI DSS status.',
      tags,
      async handle(call: SignedCall) {
        const merchants = await listMerchants(context.pool);
        const views = [];
        for (const merchant of merchants) {
          const pci = await merchantPciSummary(context.pool, merchant.id, call.now);
          views.push({ ...merchantView(merchant), pci_status: pci.status, projects: (await projectIdsOfMerchant(context.pool, merchant.id)).map(Number) });
        }
        return { merchants: views };
      },
    },
    {
      method: 'POST',
      url: '/operator/merchants',
      access: operatorOnly,
      summary: 'Create a merchant',
      tags,
      schema: { body: MerchantBody },
      async handle(call: SignedCall<Static<typeof MerchantBody>>) {
        const merchant = await audited(context, call, { action: 'merchant.create', targetType: 'merchant', details: call.body, merchantId: null }, (tx) =>
          createMerchant(tx, call.body.name),
        );
        return { merchant: merchantView(merchant) };
      },
    },
    {
      method: 'GET',
      url: '/operator/merchants/:merchantId',
      access: operatorOnly,
      summary: 'A merchant, its projects, users and PCI DSS summary',
      tags,
      async handle(call: SignedCall) {
        const merchant = await merchantOf(call.params.merchantId);
        const projectIds = await projectIdsOfMerchant(context.pool, merchant.id);
        return {
          merchant: merchantView(merchant),
          projects: await projectViews(context.pool, projectIds, call.now),
          users: (await listUsers(context.pool, merchant.id)).map(userView),
          pci: await merchantPciSummary(context.pool, merchant.id, call.now),
        };
      },
    },
    {
      method: 'POST',
      url: '/operator/merchants/:merchantId/users',
      access: operatorOnly,
      summary: "Create a merchant's user (the first admin)",
      errors: ['passwordTooWeak', 'emailTaken'],
      tags,
      schema: { body: OperatorUserBody },
      async handle(call: SignedCall<Static<typeof OperatorUserBody>>) {
        const merchant = await merchantOf(call.params.merchantId);
        const user = await audited(
          context,
          call,
          { action: 'user.create', targetType: 'user', details: { email: call.body.email, role: call.body.role }, merchantId: merchant.id },
          (tx) => createCheckedUser(tx, { ...call.body, merchantId: merchant.id }),
        );
        return { user: userView(user) };
      },
    },
    {
      method: 'POST',
      url: '/operator/merchants/:merchantId/projects',
      access: operatorOnly,
      summary: 'Create a project for a merchant',
      description: 'A test or production project; the secret key is shown once.',
      tags,
      schema: { body: ProjectBody },
      async handle(call: SignedCall<Static<typeof ProjectBody>>) {
        const merchant = await merchantOf(call.params.merchantId);
        const mode = call.body.mode as ProjectMode;
        return audited(context, call, { action: 'project.create', targetType: 'merchant', targetId: String(merchant.id), details: call.body, merchantId: merchant.id }, async (tx) => {
          if (call.body.callback_url) checkMerchantUrls({ callback_url: call.body.callback_url }, allowsPrivateUrls(context, { mode }));
          const project = await createMerchantProject(tx, merchant.id, { name: call.body.name, mode, callbackUrl: call.body.callback_url ?? null });
          const [view] = await projectViews(tx, [project.id], call.now);
          // The secret key is shown once, here; the merchant can rotate it later.
          return { project: view, secret_key: project.secretKey };
        });
      },
    },
    {
      method: 'GET',
      url: '/operator/projects',
      access: operatorOnly,
      summary: 'Every project, with or without a merchant',
      tags,
      async handle(call: SignedCall) {
        const { rows } = await context.pool.query<{ id: string }>('SELECT id::text AS id FROM projects ORDER BY projects.id');
        return { projects: await projectViews(context.pool, rows.map((row) => BigInt(row.id)), call.now) };
      },
    },
    {
      method: 'GET',
      url: '/operator/projects/:projectId/paypal-onboarding',
      access: operatorOnly,
      summary: "A project's PayPal onboarding state",
      tags,
      async handle(call: SignedCall) {
        const { project } = await anyProject(call.params.projectId, call.now);
        return { paypal_onboarding: await onboardingOf(project.id) };
      },
    },
    {
      method: 'POST',
      url: '/operator/projects/:projectId/paypal-onboarding',
      access: operatorOnly,
      summary: 'Move PayPal onboarding to the next state',
      description:
        '`requested` → `link_sent` → `rights_granted` (needs `paypal_merchant_id` and `permissions`) → `set_up` → `ready`; `revoked` from any step; `requested` again after a revocation. Other moves answer `409` / `7013`. A production project\'s `paypal_enabled` follows: on at `ready`, off at `revoked`.',
      errors: ['onboardingStepNotAllowed'],
      tags,
      schema: { body: OnboardingBody },
      async handle(call: SignedCall<Static<typeof OnboardingBody>>) {
        const { project, merchantId } = await anyProject(call.params.projectId, call.now);
        await audited(
          context,
          call,
          { action: 'paypal_onboarding.move', targetType: 'project', targetId: String(project.id), details: call.body, merchantId },
          (tx) => moveOnboarding(tx, project, call.body),
        );
        return { paypal_onboarding: await onboardingOf(project.id) };
      },
    },
    {
      method: 'GET',
      url: '/operator/projects/:projectId/paypal-credentials',
      access: operatorOnly,
      summary: "A production project's PayPal credentials: the client id and the secret's last 4 characters",
      description: 'Never the secret. `paypal_credentials` is null until they are set.',
      tags,
      async handle(call: SignedCall) {
        const { project } = await anyProject(call.params.projectId, call.now);
        return { project_id: Number(project.id), paypal_credentials: paypalCredentialsView(project.paypalCredentials) };
      },
    },
    {
      method: 'PUT',
      url: '/operator/projects/:projectId/paypal-credentials',
      access: operatorOnly,
      summary: "Set or replace a production project's PayPal credentials",
      description:
        "The merchant's PayPal REST app (client id and secret, from onboarding). The secret is stored encrypted (AES-256-GCM, `CREDENTIALS_ENCRYPTION_KEY`) and never answered, logged or audited: answers and the audit entry show the client id and the secret's last 4 characters. Gate takes a production project's PayPal payments once onboarding is `ready` and credentials are set. Test projects answer `409` / `7015`; a node without the key `503` / `7014`.",
      errors: ['productionProjectsOnly', 'credentialsKeyMissing'],
      tags,
      schema: { body: PaypalCredentialsBody },
      async handle(call: SignedCall<Static<typeof PaypalCredentialsBody>>) {
        const { project, merchantId } = await anyProject(call.params.projectId, call.now);
        const clientSecret = new Secret(call.body.client_secret);
        const details = { client_id: call.body.client_id, client_secret_last4: lastFourOf(clientSecret) };
        const credentials = await audited(context, call, { action: 'paypal_credentials.set', targetType: 'project', targetId: String(project.id), details, merchantId }, (tx) =>
          setPaypalCredentials(tx, context.credentials, project, { clientId: call.body.client_id, clientSecret }),
        );
        return { project_id: Number(project.id), paypal_credentials: credentials };
      },
    },
    {
      method: 'GET',
      url: '/operator/projects/:projectId/fees',
      access: operatorOnly,
      summary: "A project's fees: a percent (basis points) and a fixed part (minor units) per operation type",
      tags,
      async handle(call: SignedCall) {
        const { project } = await anyProject(call.params.projectId, call.now);
        return { project_id: Number(project.id), fees: await feesOf(context.pool, project.id) };
      },
    },
    {
      method: 'PUT',
      url: '/operator/projects/:projectId/fees',
      access: operatorOnly,
      summary: "Replace a project's fees",
      tags,
      schema: { body: FeesBody },
      async handle(call: SignedCall<Static<typeof FeesBody>>) {
        const { project, merchantId } = await anyProject(call.params.projectId, call.now);
        const types = call.body.fees.map((fee) => fee.operation_type);
        if (new Set(types).size !== types.length) throw new GateError('invalidFieldFormat', 'one fee rule per operation_type');
        await audited(context, call, { action: 'project.fees', targetType: 'project', targetId: String(project.id), details: call.body, merchantId }, async (tx) => {
          // Replacing all rules: concurrent saves take turns on the project row (the last one wins) instead of colliding on the key.
          await tx.query('SELECT 1 FROM projects WHERE id = $1 FOR UPDATE', [String(project.id)]);
          await tx.query('DELETE FROM project_fees WHERE project_id = $1', [String(project.id)]);
          for (const fee of call.body.fees) {
            await tx.query('INSERT INTO project_fees (project_id, operation_type, percent_basis_points, fixed_minor) VALUES ($1, $2, $3, $4)', [
              String(project.id),
              fee.operation_type,
              fee.percent_basis_points,
              fee.fixed_minor,
            ]);
          }
        });
        return { project_id: Number(project.id), fees: await feesOf(context.pool, project.id) };
      },
    },
    {
      method: 'GET',
      url: '/operator/merchants/:merchantId/pci-documents',
      access: operatorOnly,
      summary: "A merchant's PCI DSS summary and documents",
      tags,
      async handle(call: SignedCall) {
        const merchant = await merchantOf(call.params.merchantId);
        return merchantPciSummary(context.pool, merchant.id, call.now);
      },
    },
    {
      method: 'POST',
      url: '/operator/merchants/:merchantId/pci-documents',
      access: operatorOnly,
      summary: 'Record a PCI DSS document',
      description: '`valid_until` defaults to a quarter for ASV scans, a year for AOC and SAQ.',
      tags,
      schema: { body: PciBody },
      async handle(call: SignedCall<Static<typeof PciBody>>) {
        const merchant = await merchantOf(call.params.merchantId);
        const kind = call.body.kind as PciDocumentKind;
        const validUntil = call.body.valid_until ?? (isDate(call.body.issued_on) ? defaultValidUntil(kind, call.body.issued_on) : '');
        await audited(context, call, { action: 'pci_document.add', targetType: 'merchant', targetId: String(merchant.id), details: call.body, merchantId: merchant.id }, async (tx) => {
          if (!isDate(call.body.issued_on) || !isDate(validUntil) || validUntil < call.body.issued_on) {
            throw new GateError('invalidFieldFormat', 'issued_on and valid_until must be dates, valid_until not before issued_on');
          }
          await tx.query('INSERT INTO pci_documents (merchant_id, kind, issued_on, valid_until, reference, added_by) VALUES ($1, $2, $3, $4, $5, $6)', [
            String(merchant.id),
            kind,
            call.body.issued_on,
            validUntil,
            call.body.reference ?? '',
            String(call.user.id),
          ]);
        });
        return merchantPciSummary(context.pool, merchant.id, call.now);
      },
    },
    {
      method: 'GET',
      url: '/operator/fx-rates',
      access: operatorOnly,
      summary: 'The FX table',
      tags,
      async handle() {
        const { rows } = await context.pool.query(`SELECT base, quote, rate::text AS rate, updated_at FROM fx_rates ORDER BY base, quote`);
        return { rates: rows.map((row) => ({ base: row.base.trim(), quote: row.quote.trim(), rate: row.rate, updated_at: row.updated_at.toISOString() })) };
      },
    },
    {
      method: 'PUT',
      url: '/operator/fx-rates/:base/:quote',
      access: operatorOnly,
      summary: 'Set an FX rate',
      description: 'A decimal string; every node re-reads the table within 30 s.',
      tags,
      schema: { body: RateBody },
      async handle(call: SignedCall<Static<typeof RateBody>>) {
        const { base, quote } = call.params;
        if (!/^[A-Z]{3}$/.test(base) || !/^[A-Z]{3}$/.test(quote)) throw new GateError('invalidFieldFormat', 'currencies are ISO 4217 codes');
        if (!/[1-9]/.test(call.body.rate)) throw new GateError('invalidFieldFormat', 'rate must be above zero');
        await audited(context, call, { action: 'fx_rate.set', targetType: 'fx_rate', targetId: `${base}/${quote}`, details: call.body, merchantId: null }, (tx) =>
          tx.query(
            `INSERT INTO fx_rates (base, quote, rate, updated_at) VALUES ($1, $2, $3, now())
             ON CONFLICT (base, quote) DO UPDATE SET rate = $3, updated_at = now()`,
            [base, quote, call.body.rate],
          ),
        );
        // Nodes re-read the table within 30 seconds (the FX cache).
        return { base, quote, rate: call.body.rate };
      },
    },
    {
      method: 'GET',
      url: '/operator/audit-log',
      access: operatorOnly,
      summary: 'The whole audit log',
      description: 'Newest first, keyset paging (`next_cursor`).',
      documentedQuery: Type.Object({ limit: limitParameter(100, 500), cursor: queryParameters.cursor }),
      tags,
      async handle(call: SignedCall) {
        const limit = parseLimit(call.query.limit, 100, 500);
        const entries = await listAudit(context.pool, null, { limit: limit + 1, beforeId: decodeCursor(call.query.cursor) });
        const shown = entries.slice(0, limit);
        return { entries: shown, next_cursor: entries.length > limit ? encodeCursor(shown[shown.length - 1].id) : null };
      },
    },
    {
      method: 'GET',
      url: '/operator/ledger/check',
      access: operatorOnly,
      summary: 'Check the ledger invariants',
      description: 'Debits equal credits overall and per ledger transaction; no payment refunded or charged back beyond its captures; the ledger agrees with every payment.',
      documentedQuery: Type.Object({ project_id: Type.Optional(Type.String({ description: 'Check one project only.' })) }),
      tags,
      async handle(call: SignedCall) {
        const projectId = call.query.project_id === undefined ? undefined : idParameter(call.query.project_id);
        return checkLedger(context.pool, { projectId });
      },
    },
  ];
}
