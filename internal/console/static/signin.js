// Sign in: client credentials (the IMS-style token route) or an API key
// secret used directly as the bearer.
import { h, field, announce } from './dom.js';
import { signIn } from './api.js';

export function signInPage(done) {
  const id = h('input', { name: 'client_id', autocomplete: 'username', spellcheck: false });
  const secret = h('input', { name: 'client_secret', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', {
    class: 'signin',
    onsubmit: async (e) => {
      e.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      try {
        await signIn(id.value.trim(), secret.value);
        secret.value = '';
        announce('Signed in.', 'ok');
        done();
      } catch (err) {
        error.textContent = err.status === 401 || err.status === 400
          ? 'Those credentials were refused: ' + err.message
          : 'Could not sign in: ' + err.message;
        error.hidden = false;
        secret.focus();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h1', {}, 'Sign in to Herald'),
  h('p', {}, 'With an API key: its id (client id) and secret, traded for a 24-hour access token; or the key secret alone, used as the bearer.'),
  field('Client id (API key id)', id, 'Leave empty to use the secret itself as the bearer.'),
  field('Client secret (API key secret)', secret),
  error,
  h('div', { class: 'actions' }, submit),
  h('p', { class: 'hint' }, 'The token is kept in this tab only (sessionStorage) and forgotten when the tab closes.'));
  return form;
}
