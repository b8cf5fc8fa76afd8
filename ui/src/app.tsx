/**
 * The shell: skip link, header with the signed-in person's navigation (by role), the page for the
 * path, and focus moved to each new page's heading so keyboard and screen-reader users land there.
 */
import { useEffect, useRef } from "preact/hooks";

import { api } from "./http/client.ts";
import { lazyPage } from "./components/Lazy.tsx";
import { ErrorNotice, Loading } from "./components/States.tsx";
import { StepUpDialog } from "./components/StepUpDialog.tsx";
import { useConfig } from "./core/config.ts";
import { match, navigate, onLinkClick, useLocation } from "./core/router.ts";
import { session, signOutLocally, type Role } from "./core/session.ts";
import { useStore } from "./core/store.ts";
import { SignInPage } from "./pages/SignInPage.tsx";

const WalletPage = lazyPage(() => import("./pages/WalletPage.tsx").then((m) => m.WalletPage));
const PayPage = lazyPage(() => import("./pages/PayPage.tsx").then((m) => m.PayPage));
const MerchantPage = lazyPage(() => import("./pages/MerchantPage.tsx").then((m) => m.MerchantPage));
const PaymentPage = lazyPage(() => import("./pages/PaymentPage.tsx").then((m) => m.PaymentPage));
const WebhooksPage = lazyPage(() => import("./pages/WebhooksPage.tsx").then((m) => m.WebhooksPage));
const AuditPage = lazyPage(() => import("./pages/AuditPage.tsx").then((m) => m.AuditPage));
const OperatorPage = lazyPage(() => import("./pages/OperatorPage.tsx").then((m) => m.OperatorPage));
const SecurityPage = lazyPage(() => import("./pages/SecurityPage.tsx").then((m) => m.SecurityPage));
const SignUpPage = lazyPage(() => import("./pages/SignUpPage.tsx").then((m) => m.SignUpPage));

/** Where each role starts, and the navigation it sees. */
const HOME: Record<Role, string> = {
  user: "/wallet",
  merchant: "/merchant",
  auditor: "/audit",
  operator: "/operator",
  admin: "/operator",
};
const NAV: Record<Role, { href: string; label: string }[]> = {
  user: [
    { href: "/wallet", label: "Wallet" },
    { href: "/security", label: "Security" },
  ],
  merchant: [
    { href: "/merchant", label: "Payments" },
    { href: "/wallet", label: "Wallet" },
    { href: "/merchant/webhooks", label: "Webhooks" },
    { href: "/security", label: "Security" },
  ],
  auditor: [
    { href: "/audit", label: "Audit" },
    { href: "/security", label: "Security" },
  ],
  operator: [
    { href: "/operator", label: "Operations" },
    { href: "/audit", label: "Audit" },
    { href: "/security", label: "Security" },
  ],
  admin: [
    { href: "/operator", label: "Operations" },
    { href: "/audit", label: "Audit" },
    { href: "/security", label: "Security" },
  ],
};

/** Paths anyone may open signed out (the sign-in page remembers where to go back). */
const PUBLIC = ["/sign-in", "/sign-up"];

function Page({ path }: { path: string }) {
  const current = useStore(session);
  if (PUBLIC.includes(path)) return path === "/sign-up" ? <SignUpPage /> : <SignInPage />;
  if (!current) return <SignInPage next={path + location.search} />;
  const role = current.user.role;
  if (path === "/") {
    queueMicrotask(() => navigate(HOME[role], { replace: true }));
    return <Loading />;
  }
  let params: Record<string, string> | undefined;
  if (path === "/wallet") return <WalletPage />;
  if ((params = match("/wallet/:walletId", path))) return <WalletPage walletId={params.walletId} />;
  if ((params = match("/pay/:paymentRequestId", path))) return <PayPage paymentRequestId={params.paymentRequestId!} />;
  if (path === "/merchant") return <MerchantPage />;
  if ((params = match("/merchant/payments/:paymentRequestId", path)))
    return <PaymentPage paymentRequestId={params.paymentRequestId!} />;
  if (path === "/merchant/webhooks") return <WebhooksPage />;
  if (path === "/audit") return <AuditPage />;
  if (path === "/operator") return <OperatorPage />;
  if (path === "/security") return <SecurityPage />;
  return (
    <main id="main" tabIndex={-1}>
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <a href="/">Go to your start page</a>.
      </p>
    </main>
  );
}

async function signOut() {
  const current = session.value;
  if (current) await api("DELETE", `/v1/auth/sessions/${current.sessionId}`).catch(() => undefined);
  signOutLocally("signed_out");
  navigate("/sign-in");
}

export function App() {
  const { path } = useLocation();
  const current = useStore(session);
  const { error, retry } = useConfig();
  const first = useRef(true);

  useEffect(() => {
    // Focus the new page's heading after a navigation (not on the first load: the browser starts at the top).
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => {
      const heading = document.querySelector<HTMLElement>("main h1");
      if (heading) {
        heading.tabIndex = -1;
        heading.focus();
      }
    }, 50);
    return () => clearTimeout(timer);
  }, [path]);

  const nav = current ? NAV[current.user.role] : [];
  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={current ? HOME[current.user.role] : "/sign-in"}>
          Stablerail
        </a>
        {current ? (
          <nav aria-label="Main">
            <ul>
              {nav.map((item) => (
                <li key={item.href}>
                  <a
                    href={item.href}
                    aria-current={
                      path === item.href ||
                      (item.href !== "/" && path.startsWith(`${item.href}/`) && item.href !== "/merchant")
                        ? "page"
                        : undefined
                    }
                  >
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        {current ? (
          <div class="who">
            <span class="who-name">
              {current.user.name} <span class="role">({current.user.role})</span>
            </span>
            <button type="button" class="secondary" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      {current?.user.frozen ? (
        <p class="banner bad" role="status">
          This account is frozen: you can look, but no money can move. Contact support.
        </p>
      ) : null}
      {error ? (
        <div class="page">
          <ErrorNotice error={new Error("config")} onRetry={retry} />
        </div>
      ) : (
        <Page path={path} />
      )}
      <StepUpDialog />
    </div>
  );
}
