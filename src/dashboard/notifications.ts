import { Type } from '@sinclair/typebox';
import { GateError } from '../domain/errors.ts';
import { countUnread, listNotifications, markAllRead, markRead, notificationView } from '../notifications/store.ts';
import type { PlatformContext } from '../processing/context.ts';
import { limitParameter, queryParameters } from './documentation.ts';
import { decodeCursor, encodeCursor, idParameter, merchantIdOf, parseLimit, type RouteDefinition, type SignedCall } from './http.ts';

/**
 * The merchant's notifications (PCI DSS reminders) for its Dashboard users:
 * the list with each one's read state for the signed-in user and the unread
 * count (the badge), and marking read. Read state is per user; every query
 * takes the user's merchant, so another merchant's ids answer 404.
 */
const merchantUsers = ['merchant_admin', 'merchant_viewer'] as const;
const tags = ['Dashboard: notifications'] as const;

export function notificationRoutes(context: PlatformContext): RouteDefinition[] {
  return [
    {
      method: 'GET',
      url: '/notifications',
      access: merchantUsers,
      summary: 'My notifications, newest first, with the unread count',
      documentedQuery: Type.Object({
        unread: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'Only the ones I have not read.' })),
        limit: limitParameter(50, 200),
        cursor: queryParameters.cursor,
      }),
      tags,
      async handle(call: SignedCall) {
        const merchantId = merchantIdOf(call.user);
        const limit = parseLimit(call.query.limit, 50, 200);
        const unreadOnly = parseUnreadOnly(call.query.unread);
        const records = await listNotifications(context.pool, merchantId, call.user.id, { limit: limit + 1, beforeId: decodeCursor(call.query.cursor), unreadOnly });
        const shown = records.slice(0, limit);
        return {
          notifications: shown.map(notificationView),
          unread_count: await countUnread(context.pool, merchantId, call.user.id),
          next_cursor: records.length > limit ? encodeCursor(String(shown[shown.length - 1].id)) : null,
        };
      },
    },
    {
      method: 'POST',
      url: '/notifications/:notificationId/read',
      access: merchantUsers,
      summary: 'Mark one notification read (for me)',
      tags,
      async handle(call: SignedCall) {
        const merchantId = merchantIdOf(call.user);
        const notificationId = idParameter(call.params.notificationId);
        if (!(await markRead(context.pool, merchantId, call.user.id, notificationId, call.now))) {
          throw new GateError('dashboardNotFound', `notification ${notificationId}`);
        }
        return { notification_id: Number(notificationId), read: true, unread_count: await countUnread(context.pool, merchantId, call.user.id) };
      },
    },
    {
      method: 'POST',
      url: '/notifications/read-all',
      access: merchantUsers,
      summary: 'Mark all my notifications read',
      tags,
      async handle(call: SignedCall) {
        const merchantId = merchantIdOf(call.user);
        const marked = await markAllRead(context.pool, merchantId, call.user.id, call.now);
        return { marked, unread_count: await countUnread(context.pool, merchantId, call.user.id) };
      },
    },
  ];
}

function parseUnreadOnly(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new GateError('invalidFieldFormat', 'unread must be true or false');
}
