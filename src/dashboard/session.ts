import { Type, type Static } from '@sinclair/typebox';
import type pg from 'pg';
import { writeAudit } from '../accounts/audit.ts';
import { findMerchant, merchantView } from '../accounts/merchants.ts';
import { passwordLengthMax, passwordProblem, verifyPassword } from '../accounts/passwords.ts';
import { createSession, endSession, endSessionsOfUser, sessionIdleMs, type Session } from '../accounts/sessions.ts';
import { signIn, updateUser, userView, type SignInResult, type User } from '../accounts/users.ts';
import { GateError } from '../domain/errors.ts';
import type { PlatformContext } from '../processing/context.ts';
import { withTransaction } from '../store/db.ts';
import { actorOf, audited, sessionCookieName, sessionCookieOptions, type Call, type RouteDefinition, type SignedCall } from './http.ts';

const SignInBody = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: passwordLengthMax }),
});

const PasswordBody = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: passwordLengthMax }),
  new_password: Type.String({ minLength: 1, maxLength: passwordLengthMax }),
});

const tags = ['Dashboard: session'] as const;

type AuditedSignIn = Exclude<SignInResult, { kind: 'signed-in' }> | { kind: 'signed-in'; user: User; token: string; session: Session };

/**
 * Checks the credentials and, in the same transaction, counts a failure or
 * opens the session, and writes the audit entry of either outcome: a
 * sign-in never happens without its entry.
 */
async function signInAudited(tx: pg.PoolClient, call: Call<Static<typeof SignInBody>>): Promise<AuditedSignIn> {
  const { email, password } = call.body;
  const outcome = await signIn(tx, email, password, call.now);
  const actor = outcome.user ? actorOf(outcome.user) : { userId: null, email: email.slice(0, 254), merchantId: null };
  if (outcome.kind !== 'signed-in') {
    await writeAudit(tx, {
      actor,
      action: 'session.sign_in',
      outcome: 'failure',
      details: { reason: outcome.kind, ...(outcome.kind === 'locked' ? { locked_until: outcome.lockedUntil.toISOString() } : {}) },
      ipAddress: call.request.ip,
    });
    return outcome;
  }
  const { token, session } = await createSession(tx, outcome.user.id, call.now, call.request.ip);
  await writeAudit(tx, { actor, action: 'session.sign_in', outcome: 'success', ipAddress: call.request.ip });
  return { ...outcome, token, session };
}

/** Sign-in, sign-out, who am I, change my password. */
export function sessionRoutes(context: PlatformContext): RouteDefinition[] {
  async function me(call: SignedCall) {
    const merchant = call.user.merchantId === null ? undefined : await findMerchant(context.pool, call.user.merchantId);
    return {
      user: userView(call.user),
      merchant: merchant ? merchantView(merchant) : null,
      csrf_token: call.session.csrfToken,
      idle_timeout_seconds: sessionIdleMs / 1000,
    };
  }

  return [
    {
      method: 'POST',
      url: '/session',
      access: 'public',
      summary: 'Sign in',
      description:
        'Answers `{user, merchant, csrf_token, idle_timeout_seconds}` and sets the `gatehouse_session` cookie. A wrong password and an unknown email answer the same `7002`; 10 failures in a row lock the account for 30 minutes (`7003`).',
      tags,
      errors: ['signInRefused', 'accountLocked'],
      schema: { body: SignInBody },
      async handle(call: Call<Static<typeof SignInBody>>) {
        const outcome = await withTransaction(context.pool, (tx) => signInAudited(tx, call));
        if (outcome.kind === 'locked') throw new GateError('accountLocked', `until ${outcome.lockedUntil.toISOString()}`);
        if (outcome.kind === 'invalid') throw new GateError('signInRefused');
        call.reply.setCookie(sessionCookieName, outcome.token, sessionCookieOptions(context));
        return me({ ...call, session: outcome.session, user: outcome.user });
      },
    },
    { method: 'GET', url: '/session', access: 'any', summary: 'Who am I (and the CSRF token)', tags, handle: me },
    {
      method: 'DELETE',
      url: '/session',
      access: 'any',
      summary: 'Sign out',
      tags,
      async handle(call: SignedCall) {
        await withTransaction(context.pool, async (tx) => {
          await endSession(tx, call.request.cookies[sessionCookieName] ?? '');
          await writeAudit(tx, { actor: actorOf(call.user), action: 'session.sign_out', outcome: 'success', ipAddress: call.request.ip });
        });
        call.reply.clearCookie(sessionCookieName, sessionCookieOptions(context));
        return { signed_out: true };
      },
    },
    {
      method: 'POST',
      url: '/session/password',
      access: 'any',
      summary: 'Change my password',
      description: "My other sessions end; this one carries on with a fresh cookie and answers a new `csrf_token`.",
      tags,
      errors: ['passwordTooWeak', 'signInRefused'],
      schema: { body: PasswordBody },
      async handle(call: SignedCall<Static<typeof PasswordBody>>) {
        const { token, session } = await audited(context, call, { action: 'user.change_own_password', targetType: 'user', targetId: String(call.user.id) }, async (tx) => {
          const problem = passwordProblem(call.body.new_password);
          if (problem) throw new GateError('passwordTooWeak', problem);
          const { rows } = await tx.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1 FOR UPDATE', [String(call.user.id)]);
          if (!(await verifyPassword(call.body.current_password, rows[0].password_hash))) throw new GateError('signInRefused');
          await updateUser(tx, call.user.id, { password: call.body.new_password });
          // Every other session of this user ends; this one carries on with a fresh cookie.
          await endSessionsOfUser(tx, call.user.id);
          return createSession(tx, call.user.id, call.now, call.request.ip);
        });
        // Only once committed: a cookie for a session that was rolled back would sign the user out.
        call.reply.setCookie(sessionCookieName, token, sessionCookieOptions(context));
        return { changed: true, csrf_token: session.csrfToken };
      },
    },
  ];
}
