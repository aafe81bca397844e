import { Type, type Static } from '@sinclair/typebox';
import { listAudit } from '../accounts/audit.ts';
import { pciSummary } from '../accounts/compliance.ts';
import { countOperationsLastYear, listPciDocuments } from '../accounts/pci-documents.ts';
import { activeKeysMax, countActiveDataApiKeys, createDataApiKey, dataApiKeyView, listDataApiKeys, revokeDataApiKey } from '../accounts/data-api-keys.ts';
import { passwordLengthMax, passwordProblem } from '../accounts/passwords.ts';
import { endSessionsOfUser } from '../accounts/sessions.ts';
import { createUser, findUser, listUsers, merchantRoles, updateUser, userView, type Role } from '../accounts/users.ts';
import { GateError } from '../domain/errors.ts';
import type { PlatformContext } from '../processing/context.ts';
import { isUniqueViolation, type Queryable } from '../store/db.ts';
import { limitParameter, queryParameters } from './documentation.ts';
import { audited, decodeCursor, encodeCursor, idParameter, merchantIdOf, parseLimit, type RouteDefinition, type SignedCall } from './http.ts';

const MerchantRole = Type.Union(merchantRoles.map((role) => Type.Literal(role)));
const NewUserBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' }),
    role: MerchantRole,
    password: Type.String({ minLength: 1, maxLength: passwordLengthMax }),
  },
  { additionalProperties: false },
);
const UserChangesBody = Type.Object(
  {
    role: Type.Optional(MerchantRole),
    disabled: Type.Optional(Type.Boolean()),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: passwordLengthMax })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const KeyBody = Type.Object({ label: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false });

/** Creates a user, mapping the password rule and a taken email to their codes. */
export async function createCheckedUser(db: Queryable, input: { email: string; role: Role; merchantId: bigint | null; password: string }) {
  const problem = passwordProblem(input.password);
  if (problem) throw new GateError('passwordTooWeak', problem);
  try {
    return await createUser(db, input);
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_unique')) throw new GateError('emailTaken');
    throw error;
  }
}

/** A merchant's PCI DSS document status (operations counted over the last 365 days in production projects). */
export async function merchantPciSummary(db: Queryable, merchantId: bigint, now: Date) {
  const operationsLastYear = await countOperationsLastYear(db, merchantId, now);
  const documents = await listPciDocuments(db, merchantId);
  const summary = pciSummary(operationsLastYear, documents, now.toISOString().slice(0, 10));
  return {
    merchant_id: Number(merchantId),
    operations_last_year: summary.operationsLastYear,
    status: summary.status,
    required: summary.required.map((entry) => ({ kind: entry.kind, status: entry.status, valid_until: entry.validUntil })),
    documents: documents.map((document) => ({
      id: Number(document.id),
      kind: document.kind,
      issued_on: document.issuedOn,
      valid_until: document.validUntil,
      reference: document.reference,
    })),
  };
}

const tags = ['Dashboard: users and keys'] as const;

export function userRoutes(context: PlatformContext): RouteDefinition[] {
  return [
    {
      method: 'GET',
      url: '/users',
      access: ['merchant_admin'],
      summary: "My merchant's users",
      tags,
      async handle(call: SignedCall) {
        return { users: (await listUsers(context.pool, merchantIdOf(call.user))).map(userView) };
      },
    },
    {
      method: 'POST',
      url: '/users',
      access: ['merchant_admin'],
      summary: 'Create a merchant user',
      description: 'Passwords: at least 12 characters (`7007`); one user per email (`7008`).',
      tags,
      errors: ['passwordTooWeak', 'emailTaken'],
      schema: { body: NewUserBody },
      async handle(call: SignedCall<Static<typeof NewUserBody>>) {
        const merchantId = merchantIdOf(call.user);
        const user = await audited(context, call, { action: 'user.create', targetType: 'user', details: { email: call.body.email, role: call.body.role } }, (tx) =>
          createCheckedUser(tx, { email: call.body.email, role: call.body.role, merchantId, password: call.body.password }),
        );
        return { user: userView(user) };
      },
    },
    {
      method: 'PATCH',
      url: '/users/:userId',
      access: ['merchant_admin'],
      summary: 'Change a user',
      description: "Role, access or password; the user's sessions end. Not your own role or access (`7005`).",
      tags,
      errors: ['passwordTooWeak'],
      schema: { body: UserChangesBody },
      async handle(call: SignedCall<Static<typeof UserChangesBody>>) {
        const userId = idParameter(call.params.userId);
        const target = await findUser(context.pool, userId);
        if (!target || target.merchantId !== merchantIdOf(call.user)) throw new GateError('dashboardNotFound', `user ${userId}`);
        const { password, ...visible } = call.body;
        const updated = await audited(
          context,
          call,
          { action: 'user.update', targetType: 'user', targetId: String(userId), details: { ...visible, password_changed: password !== undefined } },
          async (tx) => {
            // An admin cannot lock themselves out by demoting or disabling their own account.
            if (userId === call.user.id && (call.body.role !== undefined || call.body.disabled !== undefined)) {
              throw new GateError('roleForbidsAction', 'change your own role or access through another admin');
            }
            if (password !== undefined) {
              const problem = passwordProblem(password);
              if (problem) throw new GateError('passwordTooWeak', problem);
            }
            const user = await updateUser(tx, userId, call.body);
            await endSessionsOfUser(tx, userId);
            return user;
          },
        );
        return { user: userView(updated) };
      },
    },
    {
      method: 'GET',
      url: '/data-api-keys',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'My Data API keys',
      description: 'Never the secret. `user_id` is what Data API requests carry.',
      tags,
      async handle(call: SignedCall) {
        return { user_id: Number(call.user.id), keys: (await listDataApiKeys(context.pool, call.user.id)).map(dataApiKeyView) };
      },
    },
    {
      method: 'POST',
      url: '/data-api-keys',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'Create a Data API key',
      description: `Answers \`{user_id, key, secret_key}\`; the secret is shown once. At most ${activeKeysMax} active keys.`,
      tags,
      schema: { body: KeyBody },
      async handle(call: SignedCall<Static<typeof KeyBody>>) {
        return audited(context, call, { action: 'data_api_key.create', targetType: 'user', targetId: String(call.user.id) }, async (tx) => {
          if ((await countActiveDataApiKeys(tx, call.user.id)) >= activeKeysMax) {
            throw new GateError('invalidFieldFormat', `at most ${activeKeysMax} active Data API keys; revoke one first`);
          }
          const { key, secretKey } = await createDataApiKey(tx, call.user.id, call.body.label ?? '');
          return { user_id: Number(call.user.id), key: dataApiKeyView(key), secret_key: secretKey };
        });
      },
    },
    {
      method: 'DELETE',
      url: '/data-api-keys/:keyId',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'Revoke a Data API key',
      tags,
      async handle(call: SignedCall) {
        const keyId = idParameter(call.params.keyId);
        return audited(context, call, { action: 'data_api_key.revoke', targetType: 'data_api_key', targetId: String(keyId) }, async (tx) => {
          if (!(await revokeDataApiKey(tx, call.user.id, keyId))) throw new GateError('dashboardNotFound', `key ${keyId}`);
          return { revoked: true };
        });
      },
    },
    {
      method: 'GET',
      url: '/audit-log',
      access: ['merchant_admin'],
      summary: "My merchant's audit log",
      description: 'Newest first, keyset paging (`next_cursor`).',
      tags,
      documentedQuery: Type.Object({ limit: limitParameter(100, 500), cursor: queryParameters.cursor }),
      async handle(call: SignedCall) {
        const limit = parseLimit(call.query.limit, 100, 500);
        const entries = await listAudit(context.pool, merchantIdOf(call.user), { limit: limit + 1, beforeId: decodeCursor(call.query.cursor) });
        const shown = entries.slice(0, limit);
        return { entries: shown, next_cursor: entries.length > limit ? encodeCursor(shown[shown.length - 1].id) : null };
      },
    },
    {
      method: 'GET',
      url: '/compliance',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: "My merchant's PCI DSS status",
      description: 'Each required document (quarterly ASV scan; AOC above 6,000,000 operations a year, else SAQ) is `ok`, `expiring`, `expired` or `missing`.',
      tags,
      async handle(call: SignedCall) {
        return merchantPciSummary(context.pool, merchantIdOf(call.user), call.now);
      },
    },
  ];
}
