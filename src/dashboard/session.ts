import { Type, type Static } from '@sinclair/typebox';
import { writeAudit } from '../accounts/audit.ts';
import { findMerchant, merchantView } from '../accounts/merchants.ts';
import { passwordLengthMax, passwordProblem, verifyPassword } from '../accounts/passwords.ts';
import { createSession, endSession, endSessionsOfUser, sessionIdleMs } from '../accounts/sessions.ts';
import { signIn, updateUser, userView } from '../accounts/users.ts';
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
        const { email, password } = call.body;
        const outcome = await withTransaction(context.pool, (tx) => signIn(tx, email, password, call.now));
        const actor = outcome.user ? actorOf(outcome.user) : { userId: null, email: email.slice(0, 254), merchantId: null };
        if (outcome.kind !== 'signed-in') {
          await writeAudit(context.pool, {
            actor,
            action: 'session.sign_in',
            outcome: 'failure',
            details: { reason: outcome.kind, ...(outcome.kind === 'locked' ? { locked_until: outcome.lockedUntil.toISOString() } : {}) },
            ipAddress: call.request.ip,
          });
          if (outcome.kind === 'locked') throw new GateError('accountLocked', `until ${outcome.lockedUntil.toISOString()}`);
          throw new GateError('signInRefused');
        }
        const { token, session } = await createSession(context.pool, outcome.user.id, call.now, call.request.ip);
        await writeAudit(context.pool, { actor, action: 'session.sign_in', outcome: 'success', ipAddress: call.request.ip });
        call.reply.setCookie(sessionCookieName, token, sessionCookieOptions(context));
        return me({ ...call, session, user: outcome.user });
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
        await endSession(context.pool, call.request.cookies[sessionCookieName] ?? '');
        await writeAudit(context.pool, { actor: actorOf(call.user), action: 'session.sign_out', outcome: 'success', ipAddress: call.request.ip });
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
        return audited(context, call, { action: 'user.change_own_password', targetType: 'user', targetId: String(call.user.id) }, async () => {
          const problem = passwordProblem(call.body.new_password);
          if (problem) throw new GateError('passwordTooWeak', problem);
          const { rows } = await context.pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [String(call.user.id)]);
          if (!(await verifyPassword(call.body.current_password, rows[0].password_hash))) throw new GateError('signInRefused');
          await updateUser(context.pool, call.user.id, { password: call.body.new_password });
          // Every other session of this user ends; this one carries on with a fresh cookie.
          await endSessionsOfUser(context.pool, call.user.id);
          const { token, session } = await createSession(context.pool, call.user.id, call.now, call.request.ip);
          call.reply.setCookie(sessionCookieName, token, sessionCookieOptions(context));
          return { changed: true, csrf_token: session.csrfToken };
        });
      },
    },
  ];
}
