// Audiences: create one, add members from a CSV file (with progress and
// per-row errors), see the counts.
import { h, field, replace, announce, when } from './dom.js';
import { api } from './api.js';
import { errorBlock } from './errors.js';

const CHUNK = 1000; // members per call (the API takes up to 10,000)
const namespaceRE = /^[A-Za-z0-9_-]{1,64}$/;

export async function audiencesPage() {
  const list = h('div', { class: 'table-wrap' });
  // The last upload's outcome, kept outside the table the upload reloads.
  const result = h('div', { class: 'upload-result', 'aria-live': 'polite' });
  async function load() {
    const data = await api('GET', '/audiences?limit=100');
    const items = data.audiences || [];
    replace(list, items.length ? h('table', { id: 'audiences' },
      h('thead', {}, h('tr', {}, ['Name', 'Members', 'Updated', 'Add members'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, items.map((a) => h('tr', {},
        h('td', {}, a.name, a.description ? h('div', { class: 'hint' }, a.description) : null, h('div', { class: 'hint' }, h('code', {}, a.id))),
        h('td', { 'data-members': a.id }, String(a.memberCount)),
        h('td', {}, when(a.updatedAt)),
        h('td', {}, upload(a, load, result)))))) : h('p', {}, 'No audiences yet.'));
  }
  const name = h('input', { name: 'name', required: true, 'data-field': 'name' });
  const description = h('input', { name: 'description', 'data-field': 'description' });
  const err = h('div');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      replace(err);
      try {
        await api('POST', '/audiences', { name: name.value, description: description.value });
        announce('Audience created.', 'ok');
        name.value = description.value = '';
        await load();
      } catch (e2) {
        replace(err, errorBlock(e2, form));
      }
    },
  }, h('h2', {}, 'New audience'), field('Name', name), field('Description', description), err,
  h('button', { type: 'submit', class: 'primary' }, 'Create audience'));
  await load();
  return h('section', { 'aria-labelledby': 'audiences-h' }, h('h1', { id: 'audiences-h' }, 'Audiences'), result, list, form);
}

/** parseMembers reads "namespace,id" rows (a header row is skipped) and says what is wrong with each bad row. */
export function parseMembers(text) {
  const members = [];
  const rows = [];
  const errors = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const n = i + 1;
    if (!line.trim()) return;
    const cols = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (n === 1 && cols[0].toLowerCase() === 'namespace') return;
    if (cols.length !== 2) errors.push({ row: n, message: 'needs two columns, namespace and id' });
    else if (!namespaceRE.test(cols[0])) errors.push({ row: n, message: 'the namespace must be 1–64 letters, digits, _ or -' });
    else if (!cols[1]) errors.push({ row: n, message: 'the id is empty' });
    else {
      members.push({ namespace: cols[0], id: cols[1] });
      rows.push(n);
    }
  });
  return { members, rows, errors };
}

function upload(a, reload, out) {
  const file = h('input', { type: 'file', accept: '.csv,text/csv', name: 'members', 'aria-label': 'CSV of members for ' + a.name });
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress for ' + a.name });
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    const { members, rows, errors } = parseMembers(await f.text());
    progress.max = Math.max(1, members.length);
    progress.value = 0;
    progress.hidden = false;
    let added = 0;
    for (let i = 0; i < members.length; i += CHUNK) {
      const chunk = members.slice(i, i + CHUNK);
      try {
        const r = await api('POST', '/audiences/' + encodeURIComponent(a.id) + '/members', { members: chunk });
        added += r.added || 0;
      } catch (e) {
        // Field paths (members[3].id) name rows of this chunk.
        const byRow = (e.errors || []).map((fe) => {
          const m = /^members\[(\d+)\]/.exec(fe.field || '');
          return { row: m ? rows[i + Number(m[1])] : 0, message: fe.message || e.message };
        });
        errors.push(...(byRow.length ? byRow : [{ row: 0, message: e.message }]));
      }
      progress.value = Math.min(members.length, i + CHUNK);
    }
    replace(out, h('p', {}, a.name + ': ' + added + ' added; ' + errors.length + ' row' + (errors.length === 1 ? '' : 's') + ' refused.'),
      errors.length ? h('ul', { class: 'issues' }, errors.slice(0, 50).map((x) => h('li', {}, x.row ? 'Row ' + x.row + ': ' : '', x.message))) : null);
    file.value = '';
    await reload().catch(() => {});
  });
  return h('div', {}, file, progress, h('p', { class: 'hint' }, 'Rows of namespace,id (email,jane@example.com).'));
}
