import { useEffect, useState } from 'react';
import { useLocation } from 'react-router-dom';
import { api } from './api.ts';
import type { NotificationList } from './types.ts';

/**
 * The unread count behind the header's Notifications badge. It is read again
 * on every in-app navigation and whenever a screen reports a change (marking
 * read); it does not poll, because every request keeps the session alive and
 * would defeat the 15-minute idle sign-out.
 */
const changedEvent = 'gatehouse:notifications-changed';

export function notificationsChanged(): void {
  window.dispatchEvent(new Event(changedEvent));
}

export function useUnreadCount(enabled: boolean): number {
  const location = useLocation();
  const [unread, setUnread] = useState(0);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const bump = () => setGeneration((value) => value + 1);
    window.addEventListener(changedEvent, bump);
    return () => window.removeEventListener(changedEvent, bump);
  }, []);
  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    api
      .get<NotificationList>('/notifications', { limit: '1' }, { signal: abort.signal })
      .then((answer) => setUnread(answer.unread_count))
      .catch(() => undefined);
    return () => abort.abort();
  }, [enabled, location.pathname, generation]);
  return unread;
}
