// DOM helpers. Every value from the API goes into the page as text (text
// nodes, textContent, attribute values): nothing here parses HTML.

/**
 * h builds an element: attrs sets properties and attributes (on* keys
 * add listeners; class, for, aria-*, data-* become attributes), children
 * are nodes or strings (text).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'class' || k === 'for' || k === 'role' || k.startsWith('aria-') || k.startsWith('data-')) {
      el.setAttribute(k, v === true ? '' : String(v));
    } else if (k === 'text') {
      el.textContent = String(v);
    } else if (k in el && typeof v !== 'string') {
      el[k] = v;
    } else if (k === 'value') {
      el.value = String(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** replace empties el and appends children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** field is a labelled control: a label, the control, an optional hint. */
export function field(label, control, hint) {
  const id = control.id || (control.id = 'f-' + Math.random().toString(36).slice(2, 9));
  const parts = [h('label', { for: id }, label), control];
  if (hint) {
    const hid = id + '-hint';
    control.setAttribute('aria-describedby', hid);
    parts.push(h('p', { class: 'hint', id: hid }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

/** announce tells the status region (and screen readers) something. */
export function announce(text, kind = 'info') {
  const region = document.getElementById('status');
  region.dataset.at = String(Date.now());
  replace(region, h('p', { class: 'notice ' + kind }, text));
}

/** clearStale removes a notice older than a few seconds (from an earlier page). */
export function clearStale() {
  const region = document.getElementById('status');
  if (Date.now() - Number(region.dataset.at || 0) > 3000) region.replaceChildren();
}

/** debounce calls fn once ms after the last call. */
export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

/** badge is a campaign or execution status as a labelled pill. */
export function badge(status) {
  return h('span', { class: 'badge badge-' + String(status).replace(/[^a-z]/gi, '') }, status);
}

/** when formats an RFC 3339 time for people, in their own zone. */
export function when(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

/** confirmDialog asks a yes/no question in a modal <dialog>. */
export function confirmDialog(question, yes) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-q' },
      h('p', { id: 'confirm-q' }, question),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, yes),
        h('button', { type: 'button', onclick: () => close(false) }, 'Cancel')));
    function close(v) {
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    dlg.addEventListener('cancel', () => resolve(false));
    document.body.append(dlg);
    dlg.showModal();
  });
}
