import { h } from '../dom.js';

export interface ConfirmOptions {
  readonly title: string;
  readonly message: string;
  readonly confirm: string;
  /** The confirm button is red: the action removes or undoes something. */
  readonly danger?: boolean;
}

/** A modal yes/no question (the native <dialog>: focus is trapped, Escape cancels). Resolves true on confirm. */
export function confirmDialog(o: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'submit', value: 'yes', class: o.danger ? 'primary danger' : 'primary', 'data-testid': 'confirm-yes' }, o.confirm);
    const no = h('button', { type: 'submit', value: 'no', class: 'secondary', 'data-testid': 'confirm-no' }, 'Cancel');
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-message', 'data-testid': 'confirm-dialog' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'confirm-title' }, o.title),
        h('p', { id: 'confirm-message' }, o.message),
        h('div', { class: 'actions' }, no, yes),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
