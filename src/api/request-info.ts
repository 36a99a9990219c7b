// What a request is about, read from its method and path as kube's RequestInfoFactory does: a resource
// request (/api/v1/..., /apis/<group>/<version>/...) with its verb, namespace, resource, name and
// subresource, or a non-resource request (/healthz, /version, /openapi/v3, discovery documents).

import { queryBool } from './query.js';

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  parts: string[];
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** `query` is the parsed query string (watch, fieldSelector). */
export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const lowerMethod = method.toLowerCase();
  const info: RequestInfo = {
    isResourceRequest: false,
    path: pathname,
    verb: lowerMethod === 'head' ? 'get' : lowerMethod === 'post' ? 'create' : lowerMethod === 'put' ? 'update' : lowerMethod,
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  // Non-resource verbs are the lower-cased HTTP method (get, post, put, ...), as kube authorizes them.
  if (['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].includes(lowerMethod)) info.verb = lowerMethod === 'head' ? 'get' : lowerMethod;
  let parts = pathname.replace(/^\/+|\/+$/g, '').split('/').filter((p) => p !== '');
  if (parts.length === 0 || (parts[0] !== 'api' && parts[0] !== 'apis')) return info;
  info.apiPrefix = parts[0]!;
  parts = parts.slice(1);
  if (info.apiPrefix === 'apis') {
    if (parts.length < 1) return info;
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  if (parts.length < 1) return info;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);
  if (parts.length < 1) return info;
  info.isResourceRequest = true;
  switch (lowerMethod) {
    case 'post':
      info.verb = 'create';
      break;
    case 'get':
    case 'head':
      info.verb = 'get';
      break;
    case 'put':
      info.verb = 'update';
      break;
    case 'patch':
      info.verb = 'patch';
      break;
    case 'delete':
      info.verb = 'delete';
      break;
    default:
      info.verb = '';
  }
  // The deprecated /watch/ prefix (/api/v1/watch/namespaces/ns/configmaps[/name]) that kube still serves:
  // kube's RequestInfoFactory takes it as the verb ("specialVerbs") and reads the rest as usual.
  if (parts[0] === 'watch' && parts.length > 1) {
    info.verb = 'watch';
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  info.parts = parts;
  if (parts.length >= 3) info.subresource = parts[2]!;
  if (parts.length >= 2) info.name = parts[1]!;
  info.resource = parts[0]!;
  if (info.name === '' && info.verb === 'get') {
    info.verb = queryBool(query, 'watch') ? 'watch' : 'list';
    // kube authorizes a list/watch restricted to one name as a request for that name.
    const fs = query.get('fieldSelector');
    if (fs) {
      for (const term of fs.split(',')) {
        const m = /^metadata\.name(==?)(.*)$/.exec(term);
        if (m) info.name = m[2]!;
      }
    }
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  else if (info.verb === 'delete' && info.parts.length < 2) info.verb = 'deletecollection';
  return info;
}
