// API errors as the API returns them, with the fields they name marked in
// the form that sent them.
import { h } from './dom.js';

/** errorBlock shows e and marks each field it names in form (by data-field). */
export function errorBlock(e, form) {
  if (form) markFields(form, e.errors || []);
  return h('div', { class: 'notice error', role: 'alert' },
    h('p', {}, e.message || String(e)),
    (e.errors || []).length ? h('ul', {}, e.errors.map((f) => h('li', {}, h('code', {}, f.field || 'body'), ' ', f.message))) : null);
}

/** markFields sets aria-invalid and a message on the controls errors name, and clears the others. */
export function markFields(form, errors) {
  for (const el of form.querySelectorAll('[data-field]')) {
    el.removeAttribute('aria-invalid');
    const msg = document.getElementById(el.id + '-err');
    if (msg) msg.remove();
  }
  for (const f of errors) {
    const el = findField(form, f.field);
    if (!el) continue;
    el.setAttribute('aria-invalid', 'true');
    if (!el.id) el.id = 'f-' + Math.random().toString(36).slice(2, 9);
    if (!document.getElementById(el.id + '-err')) {
      el.insertAdjacentElement('afterend', h('p', { class: 'field-error', id: el.id + '-err' }, f.message));
      el.setAttribute('aria-describedby', ((el.getAttribute('aria-describedby') || '') + ' ' + el.id + '-err').trim());
    }
  }
}

/** findField finds the control of a field path (content.email.subject, tags[2]). */
export function findField(root, path) {
  if (!path) return null;
  let p = path.replace(/\[\d+\]$/, '');
  while (p) {
    const el = root.querySelector('[data-field="' + CSS.escape(p) + '"]');
    if (el) return el;
    const i = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (i <= 0) break;
    p = p.slice(0, i);
  }
  return null;
}
