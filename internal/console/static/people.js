// Suppressions (list, add, lift) and profile lookup.
import { h, field, replace, announce, when } from './dom.js';
import { api } from './api.js';
import { errorBlock } from './errors.js';
import { routeAbsent } from './webhook.js';

export async function suppressionsPage() {
  const channel = h('select', { name: 'channel' }, ['', 'email', 'sms'].map((c) => h('option', { value: c }, c || 'any')));
  const list = h('div', { class: 'table-wrap' });
  const cursors = [''];
  let page = 0;
  const pager = h('div', { class: 'pager' });
  async function load() {
    const q = new URLSearchParams({ limit: '50' });
    if (channel.value) q.set('channel', channel.value);
    if (cursors[page]) q.set('cursor', cursors[page]);
    const data = await api('GET', '/suppressions?' + q);
    cursors[page + 1] = data.nextCursor || '';
    const items = data.items || [];
    replace(list, items.length ? h('table', { id: 'suppressions' },
      h('thead', {}, h('tr', {}, ['Channel', 'Address', 'Reason', 'Since', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, items.map((s) => h('tr', {}, h('td', {}, s.channel), h('td', {}, s.address), h('td', {}, s.reason), h('td', {}, when(s.createdAt)),
        h('td', {}, h('button', {
          type: 'button', class: 'danger', 'aria-label': 'Lift the suppression of ' + s.address,
          onclick: async () => {
            try {
              await api('DELETE', '/suppressions/' + s.channel + '/' + encodeURIComponent(s.address));
              announce('Suppression lifted.', 'ok');
              load();
            } catch (e) { announce(e.message, 'error'); }
          },
        }, 'Lift')))))) : h('p', {}, 'No suppressed addresses.'));
    replace(pager,
      h('button', { type: 'button', disabled: page === 0, onclick: () => { page--; load(); } }, 'Previous page'),
      h('button', { type: 'button', disabled: !data.nextCursor, onclick: () => { page++; load(); } }, 'Next page'));
  }
  channel.addEventListener('change', () => { cursors.length = 1; page = 0; load(); });
  const addCh = h('select', { name: 'addChannel', 'data-field': 'channel' }, ['email', 'sms'].map((c) => h('option', { value: c }, c)));
  const addr = h('input', { name: 'address', required: true, 'data-field': 'address', spellcheck: false });
  const err = h('div');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      replace(err);
      try {
        await api('PUT', '/suppressions/' + addCh.value + '/' + encodeURIComponent(addr.value.trim()), { reason: 'manual' });
        announce('Address suppressed.', 'ok');
        addr.value = '';
        load();
      } catch (e2) { replace(err, errorBlock(e2, form)); }
    },
  }, h('h2', {}, 'Suppress an address'), field('Channel', addCh), field('Address or phone number', addr), err,
  h('button', { type: 'submit' }, 'Suppress'));
  await load();
  return h('section', { 'aria-labelledby': 'supp-h' }, h('h1', { id: 'supp-h' }, 'Suppressions'),
    h('div', { class: 'filters' }, field('Channel', channel)), list, pager, form, await reputation(), await profileLookup());
}

/** reputation shows the reputation guard of each channel, with a lift for a paused one. */
async function reputation() {
  const box = h('section', { 'aria-labelledby': 'rep-h', id: 'reputation' }, h('h2', { id: 'rep-h' }, 'Reputation guard'));
  let r;
  try {
    r = await api('GET', '/reputation');
  } catch (e) {
    if (routeAbsent(e)) return null;
    box.append(errorBlock(e));
    return box;
  }
  const pct = (x) => (100 * (x || 0)).toFixed(2) + '%';
  box.append(h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Channel', 'State', 'Sends', 'Bounce rate', 'Complaint rate', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, (r.channels || []).map((c) => h('tr', {},
      h('td', {}, c.channel),
      h('td', {}, c.paused ? 'paused since ' + new Date(c.since).toLocaleString() + ' (' + c.reason + ')' : 'sending'),
      h('td', {}, String(c.window.sends)),
      h('td', {}, pct(c.rates.bounce) + ' of ' + pct(c.thresholds.bounce)),
      h('td', {}, pct(c.rates.complaint) + ' of ' + pct(c.thresholds.complaint)),
      h('td', {}, c.paused ? h('button', {
        type: 'button', onclick: async () => {
          try {
            await api('DELETE', '/reputation/' + c.channel);
            announce('Sending on ' + c.channel + ' resumed.', 'ok');
            window.dispatchEvent(new HashChangeEvent('hashchange'));
          } catch (e) { announce(e.message, 'error'); }
        },
      }, 'Lift the pause') : '')))))));
  return box;
}

async function profileLookup() {
  const ns = h('input', { name: 'namespace', value: 'email', required: true, spellcheck: false });
  const id = h('input', { name: 'profileId', required: true, spellcheck: false });
  const out = h('div', { id: 'profile-result' });
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      replace(out);
      try {
        const p = await api('GET', '/profiles/' + encodeURIComponent(ns.value.trim()) + '/' + encodeURIComponent(id.value.trim()));
        replace(out, h('pre', { tabindex: 0 }, JSON.stringify(p, null, 2)));
      } catch (e2) {
        replace(out, errorBlock(e2));
      }
    },
  }, h('h2', { id: 'profile-h' }, 'Profile lookup'), field('Identity namespace', ns), field('Identity', id),
  h('button', { type: 'submit' }, 'Look up'), out);
  return form;
}
