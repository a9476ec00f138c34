import { api } from '../api.js';
import { h } from '../dom.js';
import { errorText } from './notice.js';
import type { User } from '../types.js';

/** Sign-in form. There is no default password: the first start prints the admin credential once. */
export function loginView(onLoggedIn: (u: User) => void): HTMLElement {
  const user = h('input', {
    id: 'login-user',
    name: 'username',
    autocomplete: 'username',
    required: true,
    autocapitalize: 'none',
    spellcheck: 'false',
    'data-testid': 'login-username',
  });
  const pass = h('input', {
    id: 'login-pass',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'data-testid': 'login-password',
  });
  const msg = h('p', { class: 'notice notice-error', role: 'alert', 'data-testid': 'login-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Sign in');

  const form = h(
    'form',
    { class: 'card login', 'aria-labelledby': 'login-title', 'data-testid': 'login-form', novalidate: false },
    h('h1', { id: 'login-title' }, 'Sign in'),
    h('label', { for: 'login-user' }, 'Username'),
    user,
    h('label', { for: 'login-pass' }, 'Password'),
    pass,
    msg,
    submit,
    h('p', { class: 'hint' }, 'First start? The admin password was printed once in the controller’s log.'),
  );

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    msg.hidden = true;
    api
      .login(user.value.trim(), pass.value)
      .then((r) => onLoggedIn(r.user))
      .catch((err: unknown) => {
        msg.textContent = errorText(err);
        msg.hidden = false;
        pass.select();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  queueMicrotask(() => user.focus());
  return form;
}
