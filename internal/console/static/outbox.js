// The local outbox: what the local cloud's moto received (emails, SMS,
// push), newest first. Served by the local runner only.
import { h, replace } from './dom.js';
import { renderPreview } from './editor.js';

export async function outboxPage() {
  const resp = await fetch('../local/outbox', { cache: 'no-store', credentials: 'omit' });
  if (!resp.ok) throw new Error('The local outbox is served by the local runner (make run) only.');
  const box = await resp.json();
  const view = h('div', { id: 'outbox-view', class: 'panel' }, h('p', { class: 'muted' }, 'Choose a message.'));
  const items = [
    ...(box.emails || []).map((m) => ({ kind: 'Email', label: m.subject, to: (m.to || []).join(', '), m })),
    ...(box.sms || []).map((m) => ({ kind: 'SMS', label: m.message, to: m.phoneNumber, m })),
    ...(box.push || []).map((m) => ({ kind: 'Push', label: m.endpoint, to: m.endpoint, m })),
  ];
  const buttons = [];
  // execution links a message to the execution that sent it, when the
  // local cloud knows it (emails by their tags, SMS and push by the
  // ledger entry of their message id).
  function execution(m) {
    return m.executionId ? h('p', {}, h('a', {
      id: 'outbox-execution',
      href: '#/campaigns/' + encodeURIComponent(m.campaignId) + '/executions/' + encodeURIComponent(m.executionId),
    }, 'Its execution')) : null;
  }
  function show(it, btn) {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b === btn));
    if (it.kind === 'Email') {
      replace(view, h('h2', {}, it.m.subject), h('p', {}, 'From ', it.m.from, ' to ', it.to), execution(it.m),
        renderPreview({ email: { subject: it.m.subject, html: it.m.body } }, "desktop"));
    } else if (it.kind === 'SMS') {
      replace(view, h('h2', {}, 'SMS to ', it.to), execution(it.m), h('pre', {}, it.m.message));
    } else {
      replace(view, h('h2', {}, 'Push to ', it.m.endpoint), execution(it.m), h('pre', {}, it.m.message));
    }
  }
  const list = h('ul', { 'aria-label': 'Messages, newest first' }, items.map((it) => {
    const b = h('button', { type: 'button', 'aria-pressed': 'false' }, h('strong', {}, it.kind + ' '), it.label || '(empty)', h('br'), h('span', { class: 'hint' }, it.to));
    b.addEventListener('click', () => show(it, b));
    buttons.push(b);
    return h('li', {}, b);
  }));
  const root = h('section', { 'aria-labelledby': 'outbox-h' },
    h('div', { class: 'summary' }, h('h1', { id: 'outbox-h' }, 'Local outbox'),
      h('a', { class: 'button', href: '#/outbox', onclick: (e) => { e.preventDefault(); window.dispatchEvent(new HashChangeEvent('hashchange')); } }, 'Refresh')),
    h('p', { class: 'hint' }, 'What the local cloud\'s moto received: ' + items.length + ' message' + (items.length === 1 ? '' : 's') + '. moto keeps one body per email (the HTML part if there was one) and no custom headers.'),
    items.length ? h('div', { class: 'outbox' }, h('div', {}, list), view) : h('p', {}, 'Nothing sent yet.'));
  if (items.length) show(items[0], buttons[0]);
  return root;
}
