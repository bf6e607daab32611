// The campaign list (filters, status badges, pages, actions) and the
// form that creates a draft (steps 1 and 2: properties and action).
import { h, field, replace, badge, when, announce, confirmDialog } from './dom.js';
import { api } from './api.js';
import { errorBlock } from './errors.js';

const statuses = ['', 'draft', 'scheduled', 'live', 'stopped', 'archived'];
const types = ['', 'transactional', 'marketing'];
const channels = ['', 'email', 'sms', 'push'];

function select(name, values, value) {
  return h('select', { name }, values.map((v) => h('option', { value: v, selected: v === value }, v || 'any')));
}

export async function campaignsPage() {
  const filters = { status: '', type: '', channel: '', tag: '', name: '' };
  const cursors = ['']; // cursors[i] is the cursor of page i
  let page = 0;
  const results = h('div', { class: 'table-wrap' });
  const pager = h('div', { class: 'pager' });
  const err = h('div');
  const ctl = {
    status: select('status', statuses, ''),
    type: select('type', types, ''),
    channel: select('channel', channels, ''),
    tag: h('input', { name: 'tag', spellcheck: false }),
    name: h('input', { name: 'name', type: 'search', spellcheck: false }),
  };
  const form = h('form', {
    class: 'filters', role: 'search', 'aria-label': 'Filter campaigns',
    onsubmit: (e) => {
      e.preventDefault();
      for (const k of Object.keys(filters)) filters[k] = ctl[k].value.trim();
      cursors.length = 1;
      page = 0;
      load();
    },
  },
  field('Status', ctl.status), field('Type', ctl.type), field('Channel', ctl.channel),
  field('Tag', ctl.tag), field('Name starts with', ctl.name),
  h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Filter')));

  async function load() {
    const q = new URLSearchParams({ limit: '20' });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (cursors[page]) q.set('cursor', cursors[page]);
    replace(err);
    let data;
    try {
      data = await api('GET', '/campaigns?' + q);
    } catch (e) {
      replace(err, errorBlock(e, form));
      return;
    }
    cursors[page + 1] = data.next || '';
    replace(results, table(data.items || [], load));
    replace(pager,
      h('button', { type: 'button', disabled: page === 0, onclick: () => { page--; load(); } }, 'Previous page'),
      h('span', {}, 'Page ' + (page + 1)),
      h('button', { type: 'button', disabled: !data.next, onclick: () => { page++; load(); } }, 'Next page'));
  }
  await load();
  return h('section', { 'aria-labelledby': 'campaigns-h' },
    h('div', { class: 'summary' }, h('h1', { id: 'campaigns-h' }, 'Campaigns'),
      h('a', { class: 'button primary', href: '#/campaigns/new' }, 'New campaign')),
    form, err, results, pager);
}

function table(items, reload) {
  if (!items.length) return h('p', {}, 'No campaigns match.');
  return h('table', {},
    h('caption', { class: 'muted' }, 'Newest first'),
    h('thead', {}, h('tr', {}, ['Name', 'Channel', 'Type', 'Status', 'Version', 'Updated', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, items.map((c) => h('tr', {},
      h('td', {}, h('a', { href: '#/campaigns/' + encodeURIComponent(c.id) + '/properties' }, c.name),
        (c.tags || []).length ? h('div', { class: 'hint' }, (c.tags || []).join(', ')) : null),
      h('td', {}, c.channel),
      h('td', {}, c.type),
      h('td', {}, badge(c.status)),
      h('td', {}, c.liveVersion ? 'v' + c.liveVersion : '—', c.draftPending && c.status !== 'draft' ? h('div', { class: 'hint' }, 'draft pending') : null),
      h('td', {}, when(c.updatedAt)),
      h('td', {}, h('div', { class: 'actions' }, actions(c, reload)))))));
}

/** actions are a campaign's lifecycle buttons, each confirmed first. */
export function actions(c, reload) {
  const out = [];
  const act = (label, question, method, path, body, danger) => h('button', {
    type: 'button', class: danger ? 'danger' : '', 'aria-label': label + ' ' + c.name,
    onclick: async () => {
      if (question && !(await confirmDialog(question, label))) return;
      try {
        const r = await api(method, path, body, { ifMatch: c.revision });
        announce(label + ': done.', 'ok');
        if (label === 'Duplicate' && r && r.id) location.hash = '#/campaigns/' + encodeURIComponent(r.id) + '/properties';
        else reload();
      } catch (e) {
        announce(label + ' refused: ' + e.message + (e.errors.length ? ' (' + e.errors.map((f) => f.field + ' ' + f.message).join('; ') + ')' : ''), 'error');
      }
    },
  }, label);
  const base = '/campaigns/' + encodeURIComponent(c.id);
  out.push(act('Duplicate', '', 'POST', base + '/duplicate', {}));
  if (c.status === 'live' || c.status === 'scheduled') out.push(act('Stop', 'Stop this campaign? A stopped campaign cannot be triggered again.', 'POST', base + '/stop', undefined, true));
  if (c.status !== 'draft' && c.status !== 'archived') out.push(act('Archive', 'Archive this campaign? It is deleted 30 days later.', 'POST', base + '/archive', undefined, true));
  if (c.status === 'draft') out.push(act('Delete', 'Delete this draft?', 'DELETE', base, undefined, true));
  return out;
}

/**
 * configForm creates a channel configuration of a channel and category
 * (email: sender name and address; SMS: sender id) and calls done with it.
 * Push configurations need a platform application ARN: the API creates them.
 */
export function configForm(channel, category, done) {
  if (channel === 'push') {
    return h('p', { class: 'hint' }, 'Push configurations name an SNS platform application: create them with POST /channel-configurations.');
  }
  const name = h('input', { name: 'configName', 'data-field': 'name' });
  const extra = channel === 'email'
    ? [h('input', { name: 'fromName', 'data-field': 'email.fromName' }), h('input', { name: 'fromAddress', type: 'email', 'data-field': 'email.fromAddress' })]
    : [h('input', { name: 'senderId', 'data-field': 'sms.senderId', maxlength: 11 })];
  const err = h('div');
  const box = h('details', { class: 'panel' }, h('summary', {}, 'New ' + channel + ' configuration'),
    field('Configuration name', name),
    channel === 'email'
      ? [field('From name', extra[0]), field('From address', extra[1], 'An address of the deployment\'s sender identity (locally @herald.example).')]
      : field('Sender id', extra[0], '1–11 letters and digits.'),
    err,
    h('button', {
      type: 'button', onclick: async () => {
        replace(err);
        const body = { name: name.value, channel, category };
        body[channel] = channel === 'email' ? { fromName: extra[0].value, fromAddress: extra[1].value } : (extra[0].value ? { senderId: extra[0].value } : {});
        try {
          const c = await api('POST', '/channel-configurations', body);
          announce('Configuration created.', 'ok');
          box.open = false;
          done(c);
        } catch (e) {
          replace(err, errorBlock(e, box));
        }
      },
    }, 'Create configuration'));
  return box;
}

/** newCampaignPage creates a draft from its properties and action (steps 1 and 2). */
export async function newCampaignPage() {
  const name = h('input', { name: 'name', required: true, maxlength: 256, 'data-field': 'name' });
  const type = select('type', types.slice(1), 'transactional');
  const channel = select('channel', channels.slice(1), 'email');
  type.setAttribute('data-field', 'type');
  channel.setAttribute('data-field', 'channel');
  const config = h('select', { name: 'channelConfigurationId', 'data-field': 'channelConfigurationId' });
  const err = h('div');
  async function loadConfigs() {
    const q = new URLSearchParams({ channel: channel.value, category: type.value, limit: '100' });
    const data = await api('GET', '/channel-configurations?' + q).catch(() => ({ items: [] }));
    replace(config, h('option', { value: '' }, 'none yet'),
      (data.items || []).map((c, i) => h('option', { value: c.id, selected: i === 0 }, c.name)));
  }
  const newConfig = h('div');
  const showConfigForm = () => replace(newConfig, configForm(channel.value, type.value, async (c) => {
    await loadConfigs();
    config.value = c.id;
  }));
  for (const el of [type, channel]) {
    el.addEventListener('change', loadConfigs);
    el.addEventListener('change', showConfigForm);
  }
  await loadConfigs();
  showConfigForm();
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      replace(err);
      const body = { name: name.value, type: type.value, channel: channel.value };
      if (config.value) body.channelConfigurationId = config.value;
      try {
        const c = await api('POST', '/campaigns', body);
        announce('Draft created.', 'ok');
        location.hash = '#/campaigns/' + encodeURIComponent(c.id) + '/content';
      } catch (e2) {
        replace(err, errorBlock(e2, form));
      }
    },
  },
  h('h1', {}, 'New campaign'),
  h('p', { class: 'hint' }, 'Steps 1 and 2: properties and action. Content, audience, schedule, review and the request follow.'),
  field('Name', name),
  field('Campaign type', type, 'Transactional: triggered for given recipients. Marketing: sent to an audience. Fixed after creation.'),
  field('Channel', channel),
  field('Channel configuration', config, 'The sender: a configuration of the same channel and type.'),
  newConfig,
  err,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create draft'), h('a', { class: 'button', href: '#/campaigns' }, 'Cancel')));
  return form;
}
