// The console's entry point: a hash router (#/campaigns, #/campaigns/{id}/{step},
// #/outbox) over pages that each render into <main>. Ids in the hash are
// no secret; the token never leaves sessionStorage.
import { session, signOut, available, api } from './api.js';
import { replace, h, announce, clearStale } from './dom.js';
import { signInPage } from './signin.js';
import { campaignsPage, newCampaignPage } from './campaigns.js';
import { campaignPage } from './editor.js';
import { outboxPage } from './outbox.js';
import { audiencesPage } from './audiences.js';
import { suppressionsPage } from './people.js';
import { webhookPage, routeAbsent } from './webhook.js';

const main = () => document.getElementById('main');
let outboxProbed = false;

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/campaigns';
  const parts = hash.split('/').filter(Boolean).map(decodeURIComponent);
  const nav = document.getElementById('nav');
  if (!session()) {
    nav.hidden = true;
    renderPage('Sign in', signInPage, () => {
      // Back where the person was (an expired session keeps its page),
      // rendered once: a changed hash routes by its hashchange.
      const want = location.hash.length > 2 ? location.hash : '#/campaigns';
      if (location.hash === want) route();
      else location.hash = want;
    });
    return;
  }
  nav.hidden = false;
  watchExpiry(session());
  if (!outboxProbed) {
    outboxProbed = true;
    // The outbox exists under the local runner only.
    document.getElementById('nav-outbox').hidden = !(await outboxAvailable());
    // Audiences are an optional group of routes: their panel shows when they answer.
    document.getElementById('nav-audiences').hidden = !(await available('/audiences?limit=1'));
    document.getElementById('nav-webhook').hidden = await api('GET', '/feedback-webhook/deliveries?limit=1').then(() => false, routeAbsent);
  }
  for (const a of nav.querySelectorAll('a[data-nav]')) {
    if (a.dataset.nav === parts[0]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (parts[0] === 'outbox') return renderPage('Local outbox', outboxPage);
  if (parts[0] === 'audiences') return renderPage('Audiences', audiencesPage);
  if (parts[0] === 'suppressions') return renderPage('Suppressions and profiles', suppressionsPage);
  if (parts[0] === 'webhook') return renderPage('Feedback webhook', webhookPage);
  if (parts[0] === 'campaigns' && parts[1] === 'new') return renderPage('New campaign', newCampaignPage);
  if (parts[0] === 'campaigns' && parts[1]) return renderPage('Campaign', campaignPage, parts[1], parts[2] || 'properties', parts[3]);
  return renderPage('Campaigns', campaignsPage);
}

async function outboxAvailable() {
  try {
    const r = await fetch('../local/outbox?limit=1', { cache: 'no-store', credentials: 'omit' });
    return r.ok;
  } catch {
    return false;
  }
}

let current = 0;
let expiryTimer = 0;

/** watchExpiry returns to sign in when the token expires, even on an idle page. */
function watchExpiry(s) {
  clearTimeout(expiryTimer);
  if (s && s.expiresAt) expiryTimer = setTimeout(() => session(), Math.max(0, s.expiresAt - Date.now()) + 100);
}

async function renderPage(title, page, ...args) {
  const n = ++current;
  clearStale();
  document.title = title + ' · Herald Console';
  const root = main();
  replace(root, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const node = await page(...args);
    if (n !== current) return; // another page was asked for meanwhile
    replace(root, node);
  } catch (e) {
    if (n !== current) return;
    if (e.status === 401) return; // signed out: the router shows sign in
    replace(root, h('h1', {}, title), h('p', { class: 'notice error', role: 'alert' }, e.message || String(e)));
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('herald:signedout', (e) => {
  if (e.detail) announce(e.detail, 'error');
  route();
});
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('signout').addEventListener('click', () => {
    signOut('');
    announce('Signed out.');
  });
  route();
});
export { route };
