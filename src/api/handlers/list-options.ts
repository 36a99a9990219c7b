// List and watch options from the query, decoded and then validated as kube's handlers do: a parameter
// that does not parse is a 400 (ParameterCodec), a combination kube's ValidateListOptions refuses is a
// 422 Invalid ListOptions.meta.k8s.io.
import { queryBool, queryInt64 } from '../query.js';
import { parseFieldSelector, parseLabelSelector } from '../selectors.js';
import { forbiddenField, invalidObject, notSupported, type FieldError } from '../../apis/status.js';
import type { ListOptions, ResourceStore } from '../store.js';

const LIST_OPTIONS = { group: 'meta.k8s.io', kind: 'ListOptions' };

/** Options of a list (or deletecollection). */
export function listOptions(store: ResourceStore, q: URLSearchParams): ListOptions {
  const limit = queryInt64(q, 'limit');
  queryInt64(q, 'timeoutSeconds');
  const opts: ListOptions = {
    labelSelector: parseLabelSelector(q.get('labelSelector')),
    fieldSelector: parseFieldSelector(q.get('fieldSelector'), store.supportedFieldSelectors()),
  };
  if (limit !== undefined) opts.limit = Math.max(0, limit);
  const cont = q.get('continue');
  if (cont) opts.continue = cont;
  const rv = q.get('resourceVersion');
  if (rv) opts.resourceVersion = rv;
  const rvm = q.get('resourceVersionMatch');
  if (rvm) opts.resourceVersionMatch = rvm;
  validateListOptions(q, false);
  return opts;
}

/** kube's ValidateListOptions (the WatchList feature on, as in kube 1.32 and 1.33). */
export function validateListOptions(q: URLSearchParams, watch: boolean): void {
  const errs: FieldError[] = [];
  const match = q.get('resourceVersionMatch') ?? '';
  const rv = q.get('resourceVersion') ?? '';
  const cont = q.get('continue') ?? '';
  const sendInitialEvents = queryBool(q, 'sendInitialEvents');
  if (!watch) {
    if (match) {
      if (!rv) errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
      if (cont) errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
      if (match !== 'Exact' && match !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
      if (match === 'Exact' && rv === '0') errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
    }
    if (sendInitialEvents !== undefined) errs.push(forbiddenField('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  } else {
    if (sendInitialEvents !== undefined && match !== 'NotOlderThan') {
      errs.push(forbiddenField('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
    }
    if (match) {
      if (sendInitialEvents === undefined) errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'));
      if (match !== 'NotOlderThan') errs.push(notSupported('resourceVersionMatch', match, ['NotOlderThan']));
      if (cont) errs.push(forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    }
  }
  if (errs.length > 0) throw invalidObject(LIST_OPTIONS, '', errs);
}
