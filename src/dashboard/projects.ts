import { Type, type Static } from '@sinclair/typebox';
import { projectIdsOfMerchant } from '../accounts/merchants.ts';
import { GateError } from '../domain/errors.ts';
import { checkMerchantUrls } from '../gate/purchase-rules.ts';
import { allowsPrivateUrls, type PlatformContext } from '../processing/context.ts';
import type { Queryable } from '../store/db.ts';
import { findProject, rotateSecretKey, type Project } from '../store/projects.ts';
import { audited, merchantIdOf, projectOf, type RouteDefinition, type SignedCall } from './http.ts';

/** Extra project facts the Project record does not carry. */
interface ProjectExtras {
  merchant_id: string | null;
  previous_secret_until: Date | null;
  created_at: Date;
  onboarding_state: string | null;
}

async function extrasOf(db: Queryable, projectIds: readonly bigint[]): Promise<Map<string, ProjectExtras>> {
  const { rows } = await db.query<ProjectExtras & { id: string }>(
    `SELECT p.id::text AS id, p.merchant_id::text AS merchant_id, p.previous_secret_until, p.created_at, o.state AS onboarding_state
       FROM projects p LEFT JOIN paypal_onboarding o ON o.project_id = p.id WHERE p.id = ANY($1::bigint[])`,
    [projectIds.map(String)],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/** A project as the Dashboard shows it: never its secret key (that is shown once, when made or rotated). */
export function projectView(project: Project, extras: ProjectExtras | undefined, now: Date) {
  const overlapUntil = extras?.previous_secret_until && extras.previous_secret_until > now ? extras.previous_secret_until.toISOString() : null;
  return {
    id: Number(project.id),
    name: project.name,
    mode: project.mode,
    merchant_id: extras?.merchant_id ? Number(extras.merchant_id) : null,
    callback_url: project.callbackUrl,
    hold_expiry_action: project.holdExpiryAction,
    hold_period_seconds: project.holdPeriodSeconds,
    paypal_enabled: project.paypalEnabled,
    paypal_onboarding_state: extras?.onboarding_state ?? null,
    settlement_currency: project.settlementCurrency,
    previous_secret_key_valid_until: overlapUntil,
    test_clock: project.testClockAt?.toISOString() ?? null,
    created_at: extras?.created_at.toISOString() ?? null,
  };
}

export async function projectViews(db: Queryable, projectIds: readonly bigint[], now: Date) {
  const extras = await extrasOf(db, projectIds);
  const views = [];
  for (const id of projectIds) {
    const project = await findProject(db, id, now);
    if (project) views.push(projectView(project, extras.get(String(id)), now));
  }
  return views;
}

/** A project's fee rules: per operation type, basis points of the amount plus a fixed amount in the operation currency's minor units. */
export async function feesOf(db: Queryable, projectId: bigint) {
  const { rows } = await db.query<{ operation_type: string; percent_basis_points: number; fixed_minor: string }>(
    'SELECT operation_type, percent_basis_points, fixed_minor::text AS fixed_minor FROM project_fees WHERE project_id = $1 ORDER BY operation_type',
    [String(projectId)],
  );
  return rows;
}

const SettingsBody = Type.Object(
  {
    callback_url: Type.Optional(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://[^\\s]+$' })])),
    hold_expiry_action: Type.Optional(Type.Union([Type.Literal('cancel'), Type.Literal('capture')])),
    hold_period_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 259_200 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

const RotateBody = Type.Object(
  { overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400 })) },
  { additionalProperties: false },
);

/** A day of overlap unless asked otherwise: time for every merchant server to take the new key. */
export const rotationOverlapSecondsDefault = 86_400;

const tags = ['Dashboard: projects'] as const;

export function projectRoutes(context: PlatformContext): RouteDefinition[] {
  return [
    {
      method: 'GET',
      url: '/projects',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: "My merchant's projects",
      description: 'Never a secret key: that is shown once, when a project is made or its key rotated.',
      tags,
      async handle(call: SignedCall) {
        const ids = await projectIdsOfMerchant(context.pool, merchantIdOf(call.user));
        return { projects: await projectViews(context.pool, ids, call.now) };
      },
    },
    {
      method: 'GET',
      url: '/projects/:projectId',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'A project, its fees and its PayPal onboarding state',
      tags,
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        const [view] = await projectViews(context.pool, [project.id], call.now);
        const fees = await feesOf(context.pool, project.id);
        const onboarding = await context.pool.query(
          'SELECT state, paypal_merchant_id, permissions, updated_at FROM paypal_onboarding WHERE project_id = $1',
          [String(project.id)],
        );
        return { project: view, fees, paypal_onboarding: onboarding.rows[0] ?? null };
      },
    },
    {
      method: 'PATCH',
      url: '/projects/:projectId/settings',
      access: ['merchant_admin'],
      summary: 'Change project settings',
      description: "Callback URL (null clears it; a production project's may not point at private networks) and hold policy (`cancel` or `capture` after 60-259200 s).",
      tags,
      schema: { body: SettingsBody },
      async handle(call: SignedCall<Static<typeof SettingsBody>>) {
        const project = await projectOf(context, call, call.params.projectId);
        const changes = call.body;
        return audited(context, call, { action: 'project.settings', targetType: 'project', targetId: String(project.id), details: changes }, async (tx) => {
          if (changes.callback_url) checkMerchantUrls({ callback_url: changes.callback_url }, allowsPrivateUrls(context, project));
          await tx.query(
            `UPDATE projects SET
               callback_url = CASE WHEN $2 THEN $3 ELSE callback_url END,
               hold_expiry_action = COALESCE($4, hold_expiry_action),
               hold_period_seconds = COALESCE($5, hold_period_seconds)
             WHERE id = $1`,
            [String(project.id), 'callback_url' in changes, changes.callback_url ?? null, changes.hold_expiry_action ?? null, changes.hold_period_seconds ?? null],
          );
          const [view] = await projectViews(tx, [project.id], call.now);
          return { project: view };
        });
      },
    },
    {
      method: 'POST',
      url: '/projects/:projectId/secret-key/rotate',
      access: ['merchant_admin'],
      summary: 'Rotate the secret key',
      description: 'Answers the new key, shown once. The previous key keeps verifying for `overlap_seconds` (default 86400, at most 7 days).',
      tags,
      schema: { body: RotateBody },
      async handle(call: SignedCall<Static<typeof RotateBody>>) {
        const project = await projectOf(context, call, call.params.projectId);
        const overlapSeconds = call.body?.overlap_seconds ?? rotationOverlapSecondsDefault;
        return audited(
          context,
          call,
          { action: 'project.secret_key_rotate', targetType: 'project', targetId: String(project.id), details: { overlap_seconds: overlapSeconds } },
          async (tx) => {
            const rotated = await rotateSecretKey(tx, project.id, overlapSeconds);
            if (!rotated) throw new GateError('dashboardNotFound');
            const { rows } = await tx.query<{ previous_secret_until: Date }>('SELECT previous_secret_until FROM projects WHERE id = $1', [String(project.id)]);
            return {
              project_id: Number(project.id),
              secret_key: rotated.secretKey,
              previous_secret_key_valid_until: rows[0].previous_secret_until.toISOString(),
            };
          },
        );
      },
    },
  ];
}
