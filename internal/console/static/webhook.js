// The feedback webhook: the tenant's one endpoint for delivery feedback
// (create, show, delete) and its deliveries (status, redrive the failed).
import { h, field, replace, announce, when, confirmDialog } from './dom.js';
import { api } from './api.js';
import { errorBlock } from './errors.js';

/** routeAbsent says whether an error is the 404 of a path no route has. */
export function routeAbsent(e) {
  return (e.status === 404 && /^no route/.test(e.message)) || e.status === 405;
}

export async function webhookPage() {
  const root = h('section', { 'aria-labelledby': 'webhook-h' }, h('h1', { id: 'webhook-h' }, 'Feedback webhook'));
  let wh = null;
  try {
    wh = await api('GET', '/feedback-webhook');
  } catch (e) {
    if (routeAbsent(e)) {
      root.append(h('p', {}, 'This deployment has no feedback webhook routes.'));
      return root;
    }
    if (e.status !== 404) throw e;
  }
  if (!wh) {
    root.append(h('p', {}, 'No webhook yet: Herald can post every delivery event (sent, delivered, bounced, opened…) of the channels you choose to one HTTPS endpoint, signed.'), createForm());
    return root;
  }
  root.append(details(wh), await deliveries());
  return root;
}

function details(wh, secret) {
  return h('div', { class: 'panel', id: 'webhook-details' },
    h('h2', {}, wh.name),
    h('p', {}, 'Posts to ', h('code', {}, wh.url), ' the events of ', (wh.channels || []).join(', ') || 'no channel', '.'),
    secret ? h('div', { class: 'notice ok', role: 'alert' },
      h('p', {}, 'The signing secret, shown this once: keep it where your endpoint verifies signatures.'),
      h('pre', { id: 'webhook-secret', tabindex: 0 }, secret)) : h('p', { class: 'hint' }, wh.secretSet ? 'A signing secret is set (never shown again).' : 'No signing secret.'),
    h('div', { class: 'actions' }, h('button', {
      type: 'button', class: 'danger', onclick: async () => {
        if (!(await confirmDialog('Delete the webhook? Events stop being posted.', 'Delete'))) return;
        try {
          await api('DELETE', '/feedback-webhook');
          announce('Webhook deleted.', 'ok');
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        } catch (e) { announce(e.message, 'error'); }
      },
    }, 'Delete webhook')));
}

function createForm() {
  const name = h('input', { name: 'webhookName', 'data-field': 'name' });
  const url = h('input', { name: 'url', type: 'url', 'data-field': 'url', placeholder: 'https://example.com/herald-feedback' });
  const boxes = ['email', 'sms', 'push'].map((c) => h('input', { type: 'checkbox', name: 'channel', value: c, id: 'wh-' + c, checked: c === 'email' }));
  const err = h('div');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      replace(err);
      try {
        const wh = await api('POST', '/feedback-webhook', { name: name.value, url: url.value, channels: boxes.filter((b) => b.checked).map((b) => b.value) });
        announce('Webhook created.', 'ok');
        form.replaceWith(details(wh, wh.secret), await deliveries());
      } catch (e2) {
        replace(err, errorBlock(e2, form));
      }
    },
  }, h('h2', {}, 'Create the webhook'), field('Name', name), field('Endpoint URL', url, 'HTTPS, on a public address.'),
  h('fieldset', { 'data-field': 'channels' }, h('legend', {}, 'Channels'), boxes.map((b) => h('span', { class: 'check' }, b, ' ', h('label', { for: b.id }, b.value), ' '))),
  err, h('button', { type: 'submit', class: 'primary' }, 'Create webhook'));
  return form;
}

async function deliveries() {
  const box = h('section', { 'aria-labelledby': 'deliveries-h' }, h('h2', { id: 'deliveries-h' }, 'Deliveries'));
  try {
    const d = await api('GET', '/feedback-webhook/deliveries?limit=50');
    const items = d.items || [];
    box.append(items.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'deliveries' },
      h('thead', {}, h('tr', {}, ['Event', 'Channel', 'Status', 'Attempts', 'Last answer', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, items.map((x) => h('tr', {}, h('td', {}, h('code', {}, x.eventId)), h('td', {}, x.channel), h('td', {}, x.status),
        h('td', {}, String(x.attempts)), h('td', {}, x.lastStatusCode ? String(x.lastStatusCode) : (x.lastError || '')), h('td', {}, when(x.createdAt)))))))
      : h('p', {}, 'No deliveries yet.'),
    h('button', {
      type: 'button', onclick: async () => {
        try {
          const r = await api('POST', '/feedback-webhook/deliveries/redrive');
          announce(r.requeued + ' failed deliveries queued again.', 'ok');
        } catch (e) { announce(e.message, 'error'); }
      },
    }, 'Redrive failed deliveries'));
  } catch (e) {
    box.append(errorBlock(e));
  }
  return box;
}
