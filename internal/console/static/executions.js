// A campaign's executions (status, counts by outcome) and its report
// (sends and delivery over time, an SVG chart). Panels whose routes do not
// answer are hidden.
import { h, replace, badge, when } from './dom.js';
import { api } from './api.js';
import { errorBlock } from './errors.js';

const base = (c) => '/campaigns/' + encodeURIComponent(c.id);

/**
 * executionsPanel lists c's executions, 20 at a time from cursor (newest
 * first), with one's details open when executionId is given.
 */
export async function executionsPanel(c, executionId, cursor) {
  const root = h('div', {}, h('h2', {}, 'Executions'));
  let list;
  try {
    list = await api('GET', base(c) + '/executions?limit=20' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
  } catch (e) {
    if (e.status === 404 || e.status === 405) {
      root.append(h('p', { class: 'muted' }, 'This deployment does not list executions yet.'));
      return root;
    }
    root.append(errorBlock(e));
    return root;
  }
  const detail = h('div', { id: 'execution-detail' });
  const rows = list.executions || [];
  root.append(h('div', { class: 'actions' }, h('button', { type: 'button', id: 'executions-refresh', onclick: async () => {
    replace(root, ...(await executionsPanel(c)).childNodes);
  } }, 'Refresh')));
  if (!rows.length) root.append(h('p', {}, 'No executions yet: trigger the campaign with the request of step 7.'));
  else {
    root.append(h('div', { class: 'table-wrap' }, h('table', { id: 'executions' },
      h('thead', {}, h('tr', {}, ['Started', 'Kind', 'Status', 'Recipients', 'Sent', 'Excluded', 'Failed', 'Ambiguous', 'Pending', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((x) => h('tr', {},
        h('td', {}, when(x.createdAt)), h('td', {}, x.kind), h('td', {}, badge(x.status)),
        h('td', {}, String(x.recipients)), h('td', { 'data-count': 'sent' }, String(x.counts.sent)),
        h('td', {}, String(x.counts.excluded)), h('td', {}, String(x.counts.failed)),
        h('td', {}, String(x.counts.ambiguous)), h('td', {}, String(x.pending)),
        h('td', {}, h('button', { type: 'button', 'aria-label': 'Details of the execution of ' + when(x.createdAt), onclick: () => showExecution(x.executionId, detail) }, 'Details'))))))));
  }
  if (list.cursor) {
    root.append(h('div', { class: 'actions' }, h('button', {
      type: 'button', onclick: async () => replace(root, ...(await executionsPanel(c, '', list.cursor)).childNodes),
    }, 'Older executions')));
  }
  root.append(detail);
  if (executionId) showExecution(executionId, detail);
  const report = h('section', { 'aria-labelledby': 'report-h' });
  root.append(report);
  try {
    const r = await api('GET', base(c) + '/report');
    replace(report, h('h2', { id: 'report-h' }, 'Campaign report'), reportCounts(r), chart(r.hourly || []));
  } catch (e) {
    report.hidden = true; // no report route yet, or nothing to report
  }
  return root;
}

async function showExecution(id, box) {
  replace(box, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const x = await api('GET', '/executions/' + encodeURIComponent(id));
    const parts = [h('h3', {}, 'Execution ', h('code', {}, x.executionId)), h('p', {}, badge(x.status), ' ', x.detail || ''),
      h('ul', { class: 'counts', 'aria-label': 'Recipients by outcome' },
        Object.entries(x.outcomes || {}).map(([k, v]) => h('li', {}, k + ': ' + v)))];
    try {
      const rec = await api('GET', '/executions/' + encodeURIComponent(id) + '/recipients?limit=50');
      const items = rec.recipients || rec.items || [];
      if (items.length) {
        parts.push(h('div', { class: 'table-wrap' }, h('table', {},
          h('caption', {}, 'Recipients (no addresses)'),
          h('thead', {}, h('tr', {}, ['Namespace', 'User id', 'Channel', 'State', 'Outcome'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, items.map((r) => h('tr', {}, h('td', {}, r.namespace), h('td', {}, r.userId), h('td', {}, r.channel),
            h('td', {}, r.state), h('td', {}, r.outcome || '')))))));
      }
    } catch { /* the recipient list is optional */ }
    try {
      parts.push(h('h3', {}, 'Delivery'), reportCounts(await api('GET', '/executions/' + encodeURIComponent(id) + '/report')));
    } catch { /* no report route */ }
    replace(box, parts);
  } catch (e) {
    replace(box, errorBlock(e));
  }
}

function reportCounts(r) {
  const d = r.delivery || {};
  const items = [['Targeted', r.targeted], ['Sent', r.sent], ['Delivered', d.delivered], ['Bounced', (d.bouncedHard || 0) + (d.bouncedSoft || 0)],
    ['Complained', d.complained], ['Opened', d.opened], ['Clicked', d.clicked]];
  return h('ul', { class: 'counts' }, items.map(([k, v]) => h('li', {}, k + ': ' + (v || 0))));
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

/** chart draws the hourly series as lines: sent, delivered, bounced, opened, clicked. */
function chart(hourly) {
  if (!hourly.length) return h('p', { class: 'muted' }, 'No hourly activity in the last 7 days.');
  const series = [
    ['sent', '#1d4ed8', (x) => x.sent], ['delivered', '#166534', (x) => x.delivery.delivered],
    ['bounced', '#b91c1c', (x) => x.delivery.bouncedHard + x.delivery.bouncedSoft],
    ['opened', '#7c3aed', (x) => x.delivery.opened], ['clicked', '#8a4b00', (x) => x.delivery.clicked]];
  const W = 600, H = 200, P = 30;
  const max = Math.max(1, ...hourly.flatMap((x) => series.map(([, , f]) => f(x) || 0)));
  const xAt = (i) => P + (hourly.length === 1 ? (W - 2 * P) / 2 : (i * (W - 2 * P)) / (hourly.length - 1));
  const yAt = (v) => H - P - ((v || 0) * (H - 2 * P)) / max;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-t', width: '100%' },
    s('title', { id: 'chart-t' }, 'Hourly sent, delivered, bounced, opened and clicked'),
    s('line', { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: '#767676' }),
    s('text', { x: 2, y: P }, String(max)), s('text', { x: 2, y: H - P }, '0'));
  series.forEach(([name, color, f], k) => {
    svg.append(s('polyline', { fill: 'none', stroke: color, 'stroke-width': 2, points: hourly.map((x, i) => xAt(i) + ',' + yAt(f(x))).join(' ') }));
    svg.append(s('text', { x: P + k * 100, y: 14, fill: color }, name));
  });
  return svg;
}
