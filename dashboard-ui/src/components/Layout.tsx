import { useEffect, useState, type ReactNode } from 'react';
import { NavLink, useLocation } from 'react-router-dom';
import { roleLabels } from '../format.ts';
import { useUnreadCount } from '../notifications.ts';
import { useMe, useSession } from '../session.tsx';

/**
 * The frame around every signed-in screen: a skip link, the header with the
 * merchant and the user, and the navigation (a side bar on wide screens, a
 * menu button on phones). Merchant users and operators see their own
 * sections only; the API enforces the same split. Merchant users also get
 * a Notifications link in the header with their unread count (PCI DSS
 * reminders), visible on phones too where the side bar folds away.
 */
interface NavItem {
  to: string;
  label: string;
  end?: boolean;
}

const merchantNav: NavItem[] = [
  { to: '/', label: 'Overview', end: true },
  { to: '/payments', label: 'Payments' },
  { to: '/payouts', label: 'Payouts' },
  { to: '/mass-payouts', label: 'Mass payouts' },
  { to: '/payment-links', label: 'Payment links' },
  { to: '/balances', label: 'Balances' },
  { to: '/reports', label: 'Reports' },
  { to: '/settings', label: 'Project settings' },
];
const adminNav: NavItem[] = [
  { to: '/users', label: 'Users' },
  { to: '/audit-log', label: 'Audit log' },
];
const operatorNav: NavItem[] = [
  { to: '/operator', label: 'Merchants', end: true },
  { to: '/operator/projects', label: 'Projects & PayPal' },
  { to: '/operator/fx-rates', label: 'FX rates' },
  { to: '/operator/audit-log', label: 'Audit log' },
];

export function Layout({ children }: { children: ReactNode }) {
  const me = useMe();
  const { signOut } = useSession();
  const location = useLocation();
  const isMerchantUser = me.user.role !== 'operator';
  const unread = useUnreadCount(isMerchantUser);
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location.pathname]);

  const items =
    me.user.role === 'operator' ? operatorNav : me.user.role === 'merchant_admin' ? [...merchantNav, ...adminNav] : merchantNav;
  const common: NavItem[] = [{ to: '/account', label: 'My account' }];

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            G
          </span>
          <span>
            <span className="brand-name">Gatehouse</span>
            <span className="brand-sub">{me.user.role === 'operator' ? 'Operator console' : (me.merchant?.name ?? 'Dashboard')}</span>
          </span>
        </div>
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="primary-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <div className="user">
          {isMerchantUser ? (
            <NavLink to="/notifications" className="notifications-link" aria-label={unread > 0 ? `Notifications, ${unread} unread` : 'Notifications'}>
              Notifications
              {unread > 0 ? (
                <span className="count-badge" data-testid="unread-count" aria-hidden="true">
                  {unread}
                </span>
              ) : null}
            </NavLink>
          ) : null}
          <span className="user-email">{me.user.email}</span>
          <span className="badge badge-neutral">{roleLabels[me.user.role]}</span>
          <button type="button" className="button button-secondary button-small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <div className="body">
        <nav id="primary-nav" className={`sidenav${menuOpen ? ' open' : ''}`} aria-label="Main">
          <ul>
            {[...items, ...common].map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.end}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
