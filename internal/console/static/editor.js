// The campaign editor: the seven steps of an API-triggered campaign
// (properties, action, content with personalization and a live preview,
// audience, schedule, review and activation, the request to copy), and
// the campaign's executions.
import { h, field, replace, badge, announce, debounce } from './dom.js';
import { api } from './api.js';
import { errorBlock, markFields, findField } from './errors.js';
import { actions } from './campaigns.js';
import { smsLength } from './gsm.js';
import { executionsPanel } from './executions.js';

export const steps = [
  ['properties', '1. Properties'],
  ['action', '2. Action'],
  ['content', '3. Content'],
  ['audience', '4. Audience'],
  ['schedule', '5. Schedule'],
  ['review', '6. Review & activate'],
  ['request', '7. Request'],
];

// focusAfter is the field a review link asked for, focused once its step shows.
let focusAfter = '';

/** stepOf is the step that edits a field path. */
export function stepOf(path) {
  if (/^(name|description|tags)/.test(path)) return 'properties';
  if (/^(channel|type|highThroughput)/.test(path)) return 'action';
  if (/^(content|contextSchema)/.test(path)) return 'content';
  if (/^audience/.test(path)) return 'audience';
  if (/^schedule/.test(path)) return 'schedule';
  return 'review';
}

const specOf = (c) => c.draft || (c.live && c.live.spec) || {};
const base = (c) => '/campaigns/' + encodeURIComponent(c.id);
const go = (c, step) => { location.hash = '#/campaigns/' + encodeURIComponent(c.id) + '/' + step; };

export async function campaignPage(id, step, extra) {
  let c = await api('GET', '/campaigns/' + encodeURIComponent(id));
  const root = h('section', { 'aria-labelledby': 'campaign-h' });
  const body = h('div');
  const state = {
    get c() { return c; },
    set c(v) { c = v; header(); },
  };
  const head = h('div');
  function header() {
    replace(head,
      h('div', { class: 'summary' },
        h('h1', { id: 'campaign-h' }, c.name),
        badge(c.status),
        h('span', { id: 'version-state' }, versionState(c))),
      h('div', { class: 'actions' }, actions(c, () => go(c, step))));
  }
  header();
  const nav = h('nav', { 'aria-label': 'Campaign steps' },
    h('ol', { class: 'steps' },
      steps.map(([key, label]) => h('li', {}, h('button', {
        type: 'button', 'aria-current': key === step ? 'step' : null, onclick: () => go(c, key),
      }, label))),
      h('li', {}, h('button', { type: 'button', 'aria-current': step === 'executions' ? 'step' : null, onclick: () => go(c, 'executions') }, 'Executions'))));
  replace(root, head, nav, body);
  const pages = { properties, action, content, audience, schedule, review, request, executions: executionsStep };
  replace(body, await (pages[step] || properties)(state, extra));
  if (focusAfter) {
    const el = findField(body, focusAfter);
    focusAfter = '';
    if (el) setTimeout(() => el.focus(), 0);
  }
  return root;
}

function versionState(c) {
  if (!c.liveVersion) return 'Draft, never activated';
  const live = 'Live version: v' + c.liveVersion;
  return c.draftPending ? live + ' · pending draft: changes not yet activated' : live + ' · no pending changes';
}

/** save merge-patches the campaign and keeps its new state. */
async function save(state, patch, form, errBox) {
  replace(errBox);
  try {
    state.c = await api('PATCH', base(state.c), patch, { ifMatch: state.c.revision });
    if (form) markFields(form, []);
    return true;
  } catch (e) {
    if (e.status === 412) {
      state.c = await api('GET', base(state.c));
      replace(errBox, errorBlock({ message: 'The campaign was changed elsewhere; it has been reloaded. Save again.', errors: [] }));
      return false;
    }
    replace(errBox, errorBlock(e, form));
    return false;
  }
}

function stepForm(state, title, controls, patchFn, next) {
  const err = h('div');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      if (await save(state, patchFn(), form, err)) {
        announce('Saved.', 'ok');
        if (next) go(state.c, next);
      }
    },
  }, h('h2', {}, title), controls, err,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, next ? 'Save and continue' : 'Save')));
  return form;
}

function properties(state) {
  const c = state.c;
  const name = h('input', { name: 'name', value: c.name, required: true, 'data-field': 'name' });
  const description = h('textarea', { name: 'description', 'data-field': 'description' });
  description.value = c.description || '';
  const tags = h('input', { name: 'tags', value: (c.tags || []).join(', '), 'data-field': 'tags' });
  return stepForm(state, 'Properties', [
    field('Name', name), field('Description', description),
    field('Tags', tags, 'Comma-separated, up to 20.'),
  ], () => ({
    name: name.value,
    description: description.value || null,
    tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean),
  }), 'action');
}

async function action(state) {
  const c = state.c;
  const spec = specOf(c);
  const channel = h('select', { name: 'channel', 'data-field': 'channel', disabled: !!c.liveVersion },
    ['email', 'sms', 'push'].map((v) => h('option', { value: v, selected: v === c.channel }, v)));
  const config = h('select', { name: 'channelConfigurationId', 'data-field': 'channelConfigurationId' });
  async function load() {
    const q = new URLSearchParams({ channel: channel.value, category: c.type, limit: '100' });
    const data = await api('GET', '/channel-configurations?' + q).catch(() => ({ items: [] }));
    replace(config, h('option', { value: '' }, 'none'),
      (data.items || []).map((x) => h('option', { value: x.id, selected: x.id === spec.channelConfigurationId }, x.name + ' (' + x.id + ')')));
  }
  channel.addEventListener('change', load);
  await load();
  return stepForm(state, 'Action', [
    field('Channel', channel, c.liveVersion ? 'Fixed once activated.' : 'Changing it clears the content of the other channel.'),
    h('p', {}, 'Campaign type: ', h('strong', {}, c.type), c.highThroughput ? ' (high throughput)' : '', h('span', { class: 'hint' }, ' — fixed at creation.')),
    field('Channel configuration', config, 'The sender: a configuration of this channel and type.'),
  ], () => {
    const p = { channelConfigurationId: config.value || null };
    if (!c.liveVersion && channel.value !== c.channel) {
      p.channel = channel.value;
      p.content = null;
    }
    return p;
  }, 'content');
}

function jsonArea(name, value, label, hint) {
  const ta = h('textarea', { name, spellcheck: false, 'data-field': name });
  ta.value = value ? JSON.stringify(value, null, 2) : '';
  return [ta, field(label, ta, hint)];
}

function parseJSON(ta) {
  const t = ta.value.trim();
  if (!t) return { ok: true, value: undefined };
  try {
    const v = JSON.parse(t);
    ta.removeAttribute('aria-invalid');
    return { ok: true, value: v };
  } catch (e) {
    ta.setAttribute('aria-invalid', 'true');
    return { ok: false, error: e.message };
  }
}

function content(state) {
  const c = state.c;
  const spec = specOf(c);
  const ct = (spec.content && spec.content[c.channel]) || {};
  const inputs = {};
  let lastFocused = null;
  const mk = (key, tag, label, hint, attrs = {}) => {
    const el = h(tag, { name: key, 'data-field': 'content.' + c.channel + '.' + key, spellcheck: false, ...attrs });
    if (attrs.type === 'checkbox') el.checked = !!ct[key];
    else if (key === 'data') el.value = ct.data ? JSON.stringify(ct.data, null, 2) : '';
    else el.value = ct[key] ?? '';
    el.addEventListener('focus', () => { if (el.type !== 'checkbox') lastFocused = el; });
    inputs[key] = el;
    return attrs.type === 'checkbox'
      ? h('div', { class: 'field check' }, el, ' ', h('label', { for: el.id || (el.id = 'f-' + key) }, label))
      : field(label, el, hint);
  };
  const fields = [];
  const smsCounter = h('p', { class: 'hint', id: 'sms-counter', 'aria-live': 'polite' });
  if (c.channel === 'email') {
    fields.push(mk('subject', 'input', 'Subject'), mk('preheader', 'input', 'Preheader', 'Shown after the subject in inboxes.'),
      mk('html', 'textarea', 'HTML body', 'Values are HTML-escaped when rendered.', { rows: 10 }), mk('text', 'textarea', 'Text body', '', { rows: 5 }));
  } else if (c.channel === 'sms') {
    fields.push(mk('body', 'textarea', 'Message', '', { rows: 5 }), smsCounter);
    const count = () => {
      const n = smsLength(inputs.body.value);
      smsCounter.textContent = n.units + (n.encoding === 'GSM-7' ? ' septets' : ' UTF-16 units') + ' · ' + n.encoding + ' · ' +
        n.segments + ' segment' + (n.segments === 1 ? '' : 's') + ' (as written, before personalization)';
    };
    inputs.body.addEventListener('input', count);
    count();
  } else {
    fields.push(mk('title', 'input', 'Title'), mk('body', 'textarea', 'Body', '', { rows: 4 }),
      mk('imageUrl', 'input', 'Image URL', '', { type: 'url' }), mk('deepLink', 'input', 'Deep link'),
      mk('sound', 'input', 'Sound', 'A sound name of the app, such as default.'),
      mk('badge', 'input', 'Badge (APNs)', 'A whole number; empty leaves the badge alone.', { type: 'number', min: 0, step: 1 }),
      mk('data', 'textarea', 'Custom data (JSON object of strings)', 'Keys beside aps (APNs) and in data (FCM); values are templates.', { rows: 3 }),
      mk('silent', 'input', 'Silent (background) notification', '', { type: 'checkbox' }));
  }

  // Personalization: variables read, paths to insert, sample data, context schema.
  const varsList = h('ul', { class: 'vars', 'aria-label': 'Variables the content reads' });
  const path = h('input', { name: 'insertPath', placeholder: 'context.orderId', spellcheck: false });
  const insert = h('button', {
    type: 'button', onclick: () => {
      const target = lastFocused || inputs.subject || inputs.body || inputs.title;
      const p = path.value.trim();
      if (!target || !/^(profile|context)\.[\w.[\]-]+$/.test(p)) {
        announce('Type a path under profile. or context., then choose the field to insert it into.', 'error');
        return;
      }
      const at = target.selectionStart ?? target.value.length;
      target.value = target.value.slice(0, at) + '{{' + p + '}}' + target.value.slice(target.selectionEnd ?? at);
      target.dispatchEvent(new Event('input', { bubbles: true }));
      target.focus();
    },
  }, 'Insert into the last field');
  const [profileTA, profileField] = jsonArea('sampleProfile', { person: { name: { firstName: 'Jane' } } }, 'Sample profile (JSON)', 'Attributes the preview renders profile.* with; never stored.');
  const [contextTA, contextField] = jsonArea('sampleContext', sampleContext(spec), 'Sample context (JSON)', 'The context a trigger would send, for context.*.');
  const [schemaTA, schemaField] = jsonArea('contextSchema', spec.contextSchema, 'Context JSON Schema', 'Optional: every trigger\'s context must meet it; review checks the content against it.');
  const schemaErr = h('div');
  const schemaSave = h('button', {
    type: 'button', onclick: async () => {
      const v = parseJSON(schemaTA);
      if (!v.ok) { replace(schemaErr, errorBlock({ message: 'The schema is not JSON: ' + v.error, errors: [] })); return; }
      if (await save(state, { contextSchema: v.value === undefined ? null : v.value }, schemaPanel, schemaErr)) announce('Context schema saved.', 'ok');
    },
  }, 'Save schema');
  const schemaPanel = h('div', {}, schemaField, schemaErr, schemaSave);

  // Live preview.
  const pstate = h('p', { class: 'hint', id: 'preview-state', 'aria-live': 'polite' }, 'Preview renders as you type.');
  const pout = h('div', { id: 'preview' });
  let width = 'desktop';
  const widthButtons = c.channel === 'email' ? h('div', { class: 'actions', role: 'group', 'aria-label': 'Preview width' },
    ['desktop', 'mobile'].map((w) => h('button', {
      type: 'button', 'aria-pressed': String(w === width), 'data-width': w,
      onclick: (e) => {
        width = w;
        for (const b of e.target.parentNode.children) b.setAttribute('aria-pressed', String(b.dataset.width === w));
        const f = pout.querySelector('iframe');
        if (f) f.classList.toggle('mobile', w === 'mobile');
      },
    }, w === 'desktop' ? 'Desktop' : 'Mobile (375 px)'))) : null;

  const err = h('div');
  const form = h('form', { onsubmit: (e) => { e.preventDefault(); flush(); } }, h('h2', {}, 'Content'), fields, err,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', onclick: async () => { await flush(); go(state.c, 'audience'); } }, 'Continue to audience')));

  // Saves are serialized: an edit during a save is saved after it.
  let saving = null;
  let dirty = false;
  async function flush() {
    dirty = true;
    if (saving) return saving;
    saving = (async () => {
      while (dirty) {
        dirty = false;
        pstate.textContent = 'Saving…';
        const block = {};
        for (const [k, el] of Object.entries(inputs)) {
          block[k] = el.type === 'checkbox' ? (el.checked || null) : (el.value === '' ? null : el.value);
        }
        if (block.badge != null) block.badge = Number(block.badge);
        if (block.data != null) {
          const d = parseJSON(inputs.data);
          if (!d.ok) {
            replace(err, errorBlock({ message: 'Custom data is not JSON: ' + d.error, errors: [] }));
            continue;
          }
          // A merge patch merges keys: a key removed is sent as null.
          const before = ((specOf(state.c).content || {}).push || {}).data || {};
          block.data = { ...Object.fromEntries(Object.keys(before).map((k) => [k, null])), ...d.value };
        }
        await save(state, { content: { [c.channel]: block } }, form, err);
      }
      saving = null;
      await preview();
    })();
    return saving;
  }
  const onEdit = debounce(flush, 400);
  for (const el of Object.values(inputs)) el.addEventListener(el.type === 'checkbox' ? 'change' : 'input', onEdit);
  const onSample = debounce(() => preview(), 400);
  profileTA.addEventListener('input', onSample);
  contextTA.addEventListener('input', onSample);

  let seq = 0;
  async function preview() {
    const n = ++seq;
    const p = parseJSON(profileTA);
    const x = parseJSON(contextTA);
    if (!p.ok || !x.ok) {
      pstate.textContent = 'The sample ' + (!p.ok ? 'profile' : 'context') + ' is not JSON: ' + (p.error || x.error);
      return;
    }
    pstate.textContent = 'Rendering…';
    const req = {};
    if (p.value) req.profile = p.value;
    if (x.value) req.context = x.value;
    try {
      const r = await api('POST', base(state.c) + '/preview', req);
      if (n !== seq) return;
      replace(varsList, (r.variables || []).length ? r.variables.map((v) => h('li', {}, h('code', {}, v))) : h('li', { class: 'muted' }, 'none'));
      replace(pout, renderPreview(r, width));
      pstate.textContent = 'Preview up to date (' + new Date().toLocaleTimeString() + ').';
    } catch (e) {
      if (n !== seq) return;
      replace(pout, errorBlock(e));
      pstate.textContent = 'The preview could not render.';
    }
  }
  preview();

  return h('div', { class: 'editor' },
    h('div', {}, form,
      h('section', { class: 'panel', 'aria-labelledby': 'perso-h' },
        h('h2', { id: 'perso-h' }, 'Personalization'),
        h('h3', {}, 'Variables the content reads'), varsList,
        field('Path to insert', path, 'profile.… or context.…; inserted as {{path}} at the cursor of the field you last edited.'), insert,
        profileField, contextField, schemaPanel)),
    h('section', { class: 'panel', 'aria-labelledby': 'preview-h' },
      h('h2', { id: 'preview-h' }, 'Live preview'), widthButtons, pstate, pout));
}

function sampleContext(spec) {
  const s = spec.contextSchema;
  if (s && s.properties) {
    const out = {};
    for (const k of Object.keys(s.properties)) out[k] = 'sample';
    return out;
  }
  return { orderId: 'A-1001' };
}

/** renderPreview shows a preview: email in a sandboxed frame (no scripts), SMS and push as text. */
export function renderPreview(r, width) {
  const out = [];
  if (r.email) {
    out.push(h('p', {}, h('strong', {}, 'Subject: '), h('span', { id: 'preview-subject' }, r.email.subject)));
    if (r.email.html) {
      const frame = h('iframe', { class: 'preview-frame' + (width === 'mobile' ? ' mobile' : ''), title: 'Email preview', sandbox: '' });
      frame.setAttribute('sandbox', ''); // no scripts, no same origin, no forms, no navigation of the console
      frame.srcdoc = r.email.html;
      out.push(frame);
    }
    if (r.email.text) out.push(h('h3', {}, 'Text part'), h('pre', { id: 'preview-text' }, r.email.text));
  }
  if (r.sms) {
    out.push(h('pre', { id: 'preview-sms' }, r.sms.body),
      h('p', {}, r.sms.encoding + ' · ' + r.sms.units + ' units · ' + r.sms.segments + ' segment' + (r.sms.segments === 1 ? '' : 's')));
  }
  if (r.push) {
    for (const [platform, p] of Object.entries(r.push.payloads || {})) {
      const over = p.size > 4096;
      out.push(h('h3', {}, platform + ' payload'),
        h('p', { class: over ? 'over' : '' }, p.size + ' of 4096 bytes', over ? ' — too large' : ''),
        h('meter', { min: 0, max: 4096, value: p.size, 'aria-label': platform + ' payload size' }),
        p.error ? h('p', { class: 'notice error' }, p.error) : h('pre', {}, JSON.stringify(p.payload, null, 2)));
    }
  }
  for (const w of r.warnings || []) out.push(h('p', { class: 'notice' }, w.field + ': ' + w.message));
  return out;
}

async function audience(state) {
  const c = state.c;
  const a = specOf(c).audience || {};
  const ns = h('input', { name: 'namespace', value: a.namespace || '', 'data-field': 'audience.namespace', spellcheck: false });
  const create = h('input', { type: 'checkbox', name: 'createProfiles', checked: !!a.createProfiles, 'data-field': 'audience.createProfiles', id: 'f-createProfiles' });
  let aud = h('input', { name: 'audienceId', value: a.audienceId || '', 'data-field': 'audience.audienceId', spellcheck: false });
  if (c.type === 'marketing') {
    // A choice among the tenant's audiences when their routes answer.
    const list = await api('GET', '/audiences?limit=100').catch(() => null);
    if (list) {
      aud = h('select', { name: 'audienceId', 'data-field': 'audience.audienceId' }, h('option', { value: '' }, 'none (each trigger names one)'),
        (list.audiences || []).map((x) => h('option', { value: x.id, selected: x.id === a.audienceId }, x.name + ' (' + x.memberCount + ' members)')));
    }
  }
  const controls = [field('Identity namespace', ns, 'The namespace of the recipients\' userId: email, phone, crmId…')];
  if (c.type === 'transactional' && !c.highThroughput) {
    controls.push(h('div', { class: 'field check' }, create, ' ', h('label', { for: 'f-createProfiles' }, 'Create profiles for unknown recipients')));
  }
  if (c.type === 'marketing') controls.push(field('Audience', aud, 'The audience a marketing send goes to.'));
  return stepForm(state, 'Audience', controls, () => ({
    audience: {
      namespace: ns.value || null,
      createProfiles: c.type === 'transactional' && !c.highThroughput ? create.checked || null : undefined,
      audienceId: c.type === 'marketing' ? aud.value || null : undefined,
    },
  }), 'schedule');
}

// Schedule times are edited as local date-times in a chosen zone: UTC or
// the browser's own.
function toInput(t, utc) {
  if (!t) return '';
  const d = new Date(t);
  const shift = utc ? 0 : d.getTimezoneOffset() * 60000;
  return new Date(d.getTime() - shift).toISOString().slice(0, 16);
}
function fromInput(v, utc) {
  if (!v) return null;
  return utc ? new Date(v + ':00Z').toISOString() : new Date(v).toISOString();
}

function schedule(state) {
  const c = state.c;
  const s = specOf(c).schedule || {};
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';
  const tz = h('select', { name: 'timeZone' }, h('option', { value: 'utc' }, 'UTC'), h('option', { value: 'local' }, zone + ' (this browser)'));
  const start = h('input', { type: 'datetime-local', name: 'start', 'data-field': 'schedule.start', value: toInput(s.start, true) });
  const end = h('input', { type: 'datetime-local', name: 'end', 'data-field': 'schedule.end', value: toInput(s.end, true) });
  let utc = true;
  tz.addEventListener('change', () => {
    const a = fromInput(start.value, utc);
    const b = fromInput(end.value, utc);
    utc = tz.value === 'utc';
    start.value = toInput(a, utc);
    end.value = toInput(b, utc);
  });
  const rate = h('input', { type: 'number', min: 1, max: 2000, name: 'deliveryRate', 'data-field': 'schedule.deliveryRate', value: s.deliveryRate || '' });
  const controls = [field('Time zone of these times', tz), field('Start', start, 'Empty: as soon as it is activated.'),
    field('End', end, 'Empty: no end.')];
  if (c.type === 'marketing') controls.push(field('Delivery rate (messages per second)', rate, '1–2000; empty: as fast as the account allows.'));
  return stepForm(state, 'Schedule', controls, () => ({
    schedule: {
      start: fromInput(start.value, utc),
      end: fromInput(end.value, utc),
      deliveryRate: c.type === 'marketing' && rate.value ? Number(rate.value) : undefined,
    },
  }), 'review');
}

async function review(state) {
  const c = state.c;
  const out = h('div', { id: 'review-result' });
  const activateErr = h('div');
  async function run() {
    try {
      const r = await api('POST', base(state.c) + '/review', {});
      replace(out, issues('Errors', r.errors || [], 'errors'), issues('Warnings', r.warnings || [], 'warnings'));
      // Nothing to activate: errors remain, or the live version is the draft.
      activate.disabled = (r.errors || []).length > 0 || (!!state.c.liveVersion && !state.c.draftPending);
    } catch (e) {
      replace(out, errorBlock(e));
    }
  }
  function issues(title, list, id) {
    return h('section', { 'aria-labelledby': id + '-h' }, h('h3', { id: id + '-h' }, title + ' (' + list.length + ')'),
      list.length ? h('ul', { class: 'issues', id }, list.map((i) => h('li', {},
        h('button', {
          type: 'button', class: 'link', onclick: () => { focusAfter = i.field || ''; go(state.c, stepOf(i.field || '')); },
        }, i.field || 'campaign'), ': ', i.message, ' ', h('span', { class: 'code' }, i.code || '')))) : h('p', { class: 'muted' }, 'None.'));
  }
  const activate = h('button', {
    type: 'button', class: 'primary', onclick: async () => {
      replace(activateErr);
      try {
        state.c = await api('POST', base(state.c) + '/activate', undefined, { ifMatch: state.c.revision });
        announce('Activated: version ' + state.c.liveVersion + ' is ' + state.c.status + '.', 'ok');
        go(state.c, 'request');
      } catch (e) {
        replace(activateErr, errorBlock(e));
        run();
      }
    },
  }, 'Activate');
  await run();
  return h('div', {}, h('h2', {}, 'Review & activate'),
    h('p', {}, versionState(c)),
    c.draftPending && c.live ? diff(c.live.spec, c.draft) : null,
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: run }, 'Review again'), activate),
    activateErr, out, await versions(c));
}

/** versions lists the campaign's activated versions and compares two of them. */
async function versions(c) {
  if (!c.liveVersion) return null;
  const list = await api('GET', base(c) + '/versions?limit=100').catch(() => null);
  const items = (list && list.items) || [];
  if (items.length < 2) return null;
  const pick = (name, n) => h('select', { name }, items.map((v) => h('option', { value: v.number, selected: v.number === n },
    'v' + v.number + (v.live ? ' (live)' : '') + ' · ' + new Date(v.activatedAt).toLocaleString())));
  const a = pick('versionA', items[1].number);
  const b = pick('versionB', items[0].number);
  const out = h('div', { id: 'version-diff' });
  const compare = async () => {
    try {
      const [va, vb] = await Promise.all([a.value, b.value].map((n) => api('GET', base(c) + '/versions/' + n)));
      replace(out, diff(va.spec, vb.spec, 'Changes from v' + va.number + ' to v' + vb.number));
    } catch (e) {
      replace(out, errorBlock(e));
    }
  };
  return h('section', { 'aria-labelledby': 'versions-h' }, h('h3', { id: 'versions-h' }, 'Versions'),
    h('div', { class: 'filters' }, field('From version', a), field('To version', b),
      h('div', { class: 'field' }, h('button', { type: 'button', onclick: compare }, 'Compare'))), out);
}

function flatten(v, prefix = '', out = {}) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? prefix + '.' + k : k, out);
  } else if (v !== undefined) out[prefix] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** diff lists the fields that differ between two specs (the live version and the pending draft, or two versions). */
function diff(live, draft, title = 'Pending changes against the live version') {
  const a = flatten(live || {});
  const b = flatten(draft || {});
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
  const id = 'diff-' + Math.random().toString(36).slice(2, 8);
  return h('section', { class: 'diff', 'aria-labelledby': id }, h('h3', { id, 'data-diff': title }, title),
    keys.length ? h('ul', {}, keys.map((k) => h('li', {}, h('code', {}, k), ': ',
      a[k] !== undefined ? h('del', {}, a[k]) : null, a[k] !== undefined && b[k] !== undefined ? ' → ' : '', b[k] !== undefined ? h('ins', {}, b[k]) : ''))) : h('p', {}, 'None.'));
}

async function request(state) {
  const c = state.c;
  if (c.status !== 'live' && c.status !== 'scheduled') {
    return h('div', {}, h('h2', {}, 'Request'), h('p', {}, 'The request sample is ready once the campaign is activated.'),
      h('button', { type: 'button', onclick: () => go(c, 'review') }, 'Go to review & activate'));
  }
  const s = await api('GET', base(c) + '/request-sample');
  const copy = (label, id, text) => h('button', {
    type: 'button', 'aria-describedby': id, onclick: async () => {
      try {
        await navigator.clipboard.writeText(text);
        announce(label + ' copied.', 'ok');
      } catch {
        const r = document.createRange();
        r.selectNodeContents(document.getElementById(id));
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        announce('Select-all done: copy with your keyboard.', 'info');
      }
    },
  }, 'Copy ' + label);
  const body = JSON.stringify(s.body, null, 2);
  return h('div', {},
    h('h2', {}, 'Request'),
    h('p', {}, 'Version ', String(s.version), ' answers ', h('code', {}, s.method + ' ' + s.url), '. Replace the placeholders with the recipient\'s data and send it with your credential.'),
    h('h3', {}, 'curl'), h('pre', { id: 'sample-curl', tabindex: 0 }, s.curl), copy('curl', 'sample-curl', s.curl),
    h('h3', {}, 'Body'), h('pre', { id: 'sample-body', tabindex: 0 }, body), copy('body', 'sample-body', body),
    sendForm(c, s),
    proofs(c));
}

/**
 * sendForm sends the sample request from the console, with the signed-in
 * token: the body is editable (fill the placeholders), the requestId made
 * unique, and the answer links to the execution.
 */
function sendForm(c, s) {
  const sample = JSON.parse(JSON.stringify(s.body));
  if ('requestId' in sample) sample.requestId = 'console-' + Date.now();
  const body = h('textarea', { name: 'sendBody', rows: 12, spellcheck: false });
  body.value = JSON.stringify(sample, null, 2);
  const out = h('div', { id: 'send-result', 'aria-live': 'polite' });
  let path = new URL(s.url, location.href).pathname;
  if (path.startsWith('/ajo/')) path = path.slice(4);
  return h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      replace(out);
      let req;
      try {
        req = JSON.parse(body.value);
      } catch (err) {
        replace(out, errorBlock({ message: 'The body is not JSON: ' + err.message, errors: [] }));
        return;
      }
      try {
        const r = await api(s.method, path, req);
        replace(out, h('p', { class: 'notice ok' }, 'Accepted: execution ', h('code', {}, r.executionId || r.scheduleId || ''), ' ',
          r.executionId ? h('a', { href: '#/campaigns/' + encodeURIComponent(c.id) + '/executions/' + encodeURIComponent(r.executionId) }, 'See the execution') : null));
        if ('requestId' in req) {
          req.requestId = 'console-' + Date.now(); // the next send is a new request
          body.value = JSON.stringify(req, null, 2);
        }
      } catch (err) {
        replace(out, errorBlock(err));
      }
    },
  }, h('h3', {}, 'Send it from here'),
  field('Request body', body, 'Replace the <placeholders> with a recipient\'s data; sent with your sign-in token to ' + s.method + ' ' + path + '.'),
  h('button', { type: 'submit', class: 'primary' }, 'Send request'), out);
}

function proofs(c) {
  if (c.channel === 'push') return null;
  const to = h('input', { name: 'recipients', 'data-field': 'recipients', spellcheck: false });
  const out = h('div');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      replace(out);
      try {
        const r = await api('POST', base(c) + '/proofs', { recipients: to.value.split(',').map((x) => x.trim()).filter(Boolean) });
        replace(out, h('ul', {}, (r.results || []).map((x) => h('li', {}, x.recipient, ': ', x.outcome))));
      } catch (e2) {
        replace(out, errorBlock(e2, form));
      }
    },
  }, h('h3', {}, 'Send a proof'), field(c.channel === 'sms' ? 'Test phone numbers' : 'Test addresses', to, 'Up to 10, comma-separated; the message is really sent, marked [Proof].'),
  h('button', { type: 'submit' }, 'Send proof'), out);
  return form;
}

async function executionsStep(state, executionId) {
  return executionsPanel(state.c, executionId);
}
