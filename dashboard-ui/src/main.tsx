import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { Layout } from './components/Layout.tsx';
import { Loading } from './components/ui.tsx';
import { SignInPage } from './pages/SignIn.tsx';
import { SessionProvider, useSession } from './session.tsx';
import './styles.css';

/**
 * The Gatehouse Dashboard (merchants) and operator console, served by the
 * platform at /dashboard. Screens load on demand, so the sign-in page does
 * not wait for the chart library.
 */
const Overview = lazy(() => import('./pages/Overview.tsx'));
const Payments = lazy(() => import('./pages/Payments.tsx'));
const PaymentDetail = lazy(() => import('./pages/PaymentDetail.tsx'));
const Payouts = lazy(() => import('./pages/Payouts.tsx'));
const MassPayouts = lazy(() => import('./pages/MassPayouts.tsx'));
const MassPayoutBatch = lazy(() => import('./pages/MassPayoutBatch.tsx'));
const PaymentLinks = lazy(() => import('./pages/PaymentLinks.tsx'));
const Balances = lazy(() => import('./pages/Balances.tsx'));
const Reports = lazy(() => import('./pages/Reports.tsx'));
const Settings = lazy(() => import('./pages/Settings.tsx'));
const Users = lazy(() => import('./pages/Users.tsx'));
const AuditLog = lazy(() => import('./pages/AuditLog.tsx'));
const Account = lazy(() => import('./pages/Account.tsx'));
const Notifications = lazy(() => import('./pages/Notifications.tsx'));
const Merchants = lazy(() => import('./operator/Merchants.tsx'));
const MerchantDetail = lazy(() => import('./operator/MerchantDetail.tsx'));
const OperatorProjects = lazy(() => import('./operator/Projects.tsx'));
const Onboarding = lazy(() => import('./operator/Onboarding.tsx'));
const Fees = lazy(() => import('./operator/Fees.tsx'));
const FxRates = lazy(() => import('./operator/FxRates.tsx'));

function NotFound() {
  return (
    <>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>There is no page at this address. Use the menu to go on.</p>
    </>
  );
}

function SignedInRoutes() {
  const { me } = useSession();
  if (me?.user.role === 'operator') {
    return (
      <Routes>
        <Route path="/operator" element={<Merchants />} />
        <Route path="/operator/merchants/:merchantId" element={<MerchantDetail />} />
        <Route path="/operator/projects" element={<OperatorProjects />} />
        <Route path="/operator/projects/:projectId/onboarding" element={<Onboarding />} />
        <Route path="/operator/projects/:projectId/fees" element={<Fees />} />
        <Route path="/operator/fx-rates" element={<FxRates />} />
        <Route path="/operator/audit-log" element={<AuditLog scope="operator" />} />
        <Route path="/account" element={<Account />} />
        <Route path="/" element={<Navigate to="/operator" replace />} />
        <Route path="/sign-in" element={<Navigate to="/operator" replace />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    );
  }
  return (
    <Routes>
      <Route path="/" element={<Overview />} />
      <Route path="/payments" element={<Payments />} />
      <Route path="/payments/:projectId/payment" element={<PaymentDetail />} />
      <Route path="/payouts" element={<Payouts />} />
      <Route path="/mass-payouts" element={<MassPayouts />} />
      <Route path="/mass-payouts/:projectId/:batchId" element={<MassPayoutBatch />} />
      <Route path="/payment-links" element={<PaymentLinks />} />
      <Route path="/balances" element={<Balances />} />
      <Route path="/reports" element={<Reports />} />
      <Route path="/settings" element={<Settings />} />
      <Route path="/users" element={<Users />} />
      <Route path="/audit-log" element={<AuditLog scope="merchant" />} />
      <Route path="/account" element={<Account />} />
      <Route path="/notifications" element={<Notifications />} />
      <Route path="/sign-in" element={<Navigate to="/" replace />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}

function App() {
  const { status } = useSession();
  const location = useLocation();
  if (status === 'loading') return <Loading label="Opening the Dashboard…" />;
  if (status === 'signed-out') {
    if (location.pathname === '/sign-in') return <SignInPage />;
    const back = `${location.pathname}${location.search}`;
    return <Navigate to={`/sign-in${back === '/' ? '' : `?next=${encodeURIComponent(back)}`}`} replace />;
  }
  return (
    <Layout>
      <Suspense fallback={<Loading />}>
        <SignedInRoutes />
      </Suspense>
    </Layout>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter basename="/dashboard">
      <SessionProvider>
        <App />
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
