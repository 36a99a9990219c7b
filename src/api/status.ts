// The Status errors only the HTTP edge of the API machinery raises (routing, methods, media types, body
// size); everything else is src/apis/status.ts.
import { ApiError, q, qualifiedResource, type GroupResource } from '../apis/status.js';

export function methodNotSupported(gr: GroupResource, action: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind ${q(qualifiedResource(gr))}`, {
    group: gr.group,
    kind: gr.resource,
  });
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function notAcceptable(accepted: string[]): ApiError {
  return new ApiError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

export function unsupportedMediaType(accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function requestEntityTooLarge(limit: number | string): ApiError {
  // kube's NewRequestEntityTooLargeError: a body over the byte limit, or a named excess (a JSON patch's operations).
  const what = typeof limit === 'number' ? `limit is ${limit}` : limit;
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: ${what}`);
}

export function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** 504 Timeout: a request that did not complete within the server's request timeout. */
export function timeout(message: string, retryAfterSeconds = 1): ApiError {
  return new ApiError(504, 'Timeout', message, { retryAfterSeconds });
}
