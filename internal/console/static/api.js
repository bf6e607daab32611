// The API client: the session (a bearer token in sessionStorage only,
// never in a URL or localStorage) and one fetch wrapper that sends it.

const KEY = 'herald.session';

/** session returns the stored session, or null when absent or expired. */
export function session() {
  let s;
  try {
    s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch {
    s = null;
  }
  if (!s || !s.token) return null;
  if (s.expiresAt && Date.now() >= s.expiresAt) {
    signOut('Your session has expired. Sign in again.');
    return null;
  }
  return s;
}

/** signOut forgets the token and sends the person to sign in. */
export function signOut(reason) {
  sessionStorage.removeItem(KEY);
  window.dispatchEvent(new CustomEvent('herald:signedout', { detail: reason || '' }));
}

/**
 * signIn stores a token: with a client id it trades id and secret for an
 * access token at the IMS-style token route; without, the secret is an
 * API key secret used as the bearer itself (checked with one call).
 */
export async function signIn(clientId, secret) {
  if (clientId) {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
    const resp = await fetch('../ims/token/v3', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      credentials: 'omit',
      cache: 'no-store',
    });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new ApiError(resp.status, body);
    // Leave a minute's margin so a call never races the expiry.
    const expiresAt = Date.now() + Math.max(0, (body.expires_in - 60) * 1000);
    sessionStorage.setItem(KEY, JSON.stringify({ token: body.access_token, expiresAt, kind: 'token' }));
  } else {
    sessionStorage.setItem(KEY, JSON.stringify({ token: secret, expiresAt: 0, kind: 'key' }));
    try {
      await api('GET', '/campaigns?limit=1');
    } catch (e) {
      sessionStorage.removeItem(KEY);
      throw e;
    }
  }
}

/** ApiError is an API answer ≥ 400 in Herald's error shape. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title || body.error_description)) || 'HTTP ' + status);
    this.status = status;
    this.body = body || {};
    /** errors are the field errors: [{field, message}]. */
    this.errors = (body && body.errors) || [];
  }
}

/**
 * api calls the API (path from its root, such as /campaigns) and returns
 * the decoded body, or throws ApiError. A 401 signs the person out.
 */
export async function api(method, path, body, opts = {}) {
  const s = session();
  if (!s) {
    signOut('Sign in to continue.');
    throw new ApiError(401, { detail: 'not signed in' });
  }
  const headers = { Authorization: 'Bearer ' + s.token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.ifMatch) headers['If-Match'] = '"' + opts.ifMatch + '"';
  const resp = await fetch('..' + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => null);
  if (resp.status === 401) {
    signOut('Your session has expired or the credential was refused. Sign in again.');
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

/** available says whether a route answers (a panel whose route is absent is hidden). */
export async function available(path) {
  try {
    await api('GET', path);
    return true;
  } catch (e) {
    return e.status !== 404 && e.status !== 405;
  }
}
