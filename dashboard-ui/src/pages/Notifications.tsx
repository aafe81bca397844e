import { useState } from 'react';
import { api, segment } from '../api.ts';
import { PciStatus } from '../components/PciStatus.tsx';
import { ErrorNotice, Loading, Page, Section } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { notificationsChanged } from '../notifications.ts';
import type { NotificationList } from '../types.ts';

/**
 * The merchant's notifications (PCI DSS reminders: a document expires in 30,
 * 14, 7 or 1 days, has expired, or is missing), newest first, with the PCI
 * DSS status they are about. Read state is each user's own.
 */
export default function Notifications() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const list = useLoad((signal) => api.get<NotificationList>('/notifications', { limit: '20', cursor }, { signal }), [cursor]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  async function change(action: () => Promise<unknown>) {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      await list.reload();
      notificationsChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const unread = list.data?.unread_count ?? 0;
  const markAll = (
    <button type="button" className="button button-secondary button-small" disabled={busy || unread === 0} onClick={() => void change(() => api.post('/notifications/read-all'))}>
      Mark all as read
    </button>
  );

  return (
    <Page title="Notifications" description="Reminders about your PCI DSS documents, also e-mailed to your admins when your operator set up e-mail.">
      <Section title="PCI DSS status">
        <PciStatus />
      </Section>
      <Section title={unread > 0 ? `Notifications (${unread} unread)` : 'Notifications'} actions={markAll}>
        <ErrorNotice error={list.error ?? error} title="Notifications could not be loaded or changed" />
        {!list.data && list.loading ? <Loading /> : null}
        {list.data && list.data.notifications.length === 0 ? <p className="muted">No notifications.</p> : null}
        {list.data ? (
          <ul className="notification-list" aria-label="Notifications">
            {list.data.notifications.map((notification) => (
              <li key={notification.id} className={notification.read ? 'read' : 'unread'}>
                <h3>
                  {notification.title}
                  {notification.read ? null : <span className="badge badge-warn">Unread</span>}
                </h3>
                <p>{notification.body}</p>
                <p className="muted">
                  {formatDateTime(notification.created_at)}
                  {notification.read ? null : (
                    <>
                      {' · '}
                      <button
                        type="button"
                        className="button button-secondary button-small"
                        disabled={busy}
                        aria-label={`Mark “${notification.title}” as read`}
                        onClick={() => void change(() => api.post(`/notifications/${segment(notification.id)}/read`))}
                      >
                        Mark as read
                      </button>
                    </>
                  )}
                </p>
              </li>
            ))}
          </ul>
        ) : null}
        {list.data && (cursors.length > 1 || list.data.next_cursor) ? (
          <nav className="pager" aria-label="Pages">
            <button type="button" className="button button-secondary" disabled={cursors.length < 2} onClick={() => setCursors((items) => items.slice(0, -1))}>
              Newer
            </button>
            <button
              type="button"
              className="button button-secondary"
              disabled={!list.data.next_cursor}
              onClick={() => setCursors((items) => [...items, list.data!.next_cursor ?? undefined])}
            >
              Older
            </button>
          </nav>
        ) : null}
      </Section>
    </Page>
  );
}
