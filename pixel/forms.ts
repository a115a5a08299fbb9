// Lead forms: every `ckm_request_id` field of form#ckm_form and of forms that opt in with
// `data-ckm` carries the reqid, in forms present now or added later. (The selector does not
// repeat `form`, to save bytes: only forms carry that id or attribute in pages that use them.)
import { doc, KEY } from './config.js';
import { reqid } from './storage.js';

const FIELD = `[name=${KEY}]`;

/** Fills the fields; a form without one gets a hidden one. A field the page filled itself keeps
 * its value; the fields this script filled (marked `ckm`) follow a reqid that changes. */
export const fill = () =>
  reqid &&
  doc.querySelectorAll('#ckm_form,[data-ckm]').forEach((form) =>
    (form.querySelector(FIELD) ||
      form.append(Object.assign(doc.createElement('input'), { type: 'hidden', name: KEY })),
    form
      .querySelectorAll<HTMLInputElement & { ckm?: string }>(FIELD)
      .forEach((field) => (!field.value || field.ckm) && (field.value = field.ckm = reqid))),
  );

/** Fills the forms now, and whenever nodes are added to the document. */
export const watch = () => (new MutationObserver(fill).observe(doc, { childList: true, subtree: true }), fill());
