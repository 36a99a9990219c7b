// Request bodies: read with a size limit (413 beyond it, kube's 3 MiB), parsed as JSON or YAML, and decoded
// against the kind's schema under the request's fieldValidation directive (Strict → 400 naming every
// unknown field, Warn → a Warning header each, Ignore → silently dropped).
import type { IncomingMessage } from 'node:http';
import { decodeWithSchema, DecodeError, type ObjectSchema } from './schema.js';
import { requestEntityTooLarge, unsupportedMediaType } from './status.js';
import { contentTypeOf } from './negotiation.js';
import { decodeProtobufBody, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { badRequest } from '../apis/status.js';
import { MAX_YAML_NESTING, parseUntrustedYaml } from '../util/yaml-nesting.js';

export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(requestEntityTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(requestEntityTooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

const BODY_TYPES = ['application/json', 'application/yaml', PROTOBUF_CONTENT_TYPE];

/**
 * How deep objects and arrays may nest in a body. Go's decoder stops at 10,000; the recursive code a body meets
 * here (the yaml package, patches, schema decoding) runs out of stack a thousand or more levels down, and no
 * Kubernetes object comes near this depth.
 */
export const MAX_BODY_NESTING = MAX_YAML_NESTING;

/** Parses a JSON, YAML or (with the kind's schema) protobuf body into a plain value. */
export function parseBody(body: Buffer, contentTypeHeader: string | undefined, schema?: ObjectSchema): unknown {
  const ct = contentTypeOf(contentTypeHeader);
  if (ct === PROTOBUF_CONTENT_TYPE && schema) return decodeProtobufBody(body, schema);
  const text = body.toString('utf8');
  // Only the media types kube-apiserver decodes (a missing Content-Type is JSON, as kube defaults it); text/plain,
  // */* or a form body is 415, as kube's NegotiateInputSerializer answers.
  if (ct === 'application/json') return withinDepth(parsed(() => JSON.parse(text), 'json'), 'json');
  if (ct === 'application/yaml' || ct === 'application/x-yaml' || ct === 'text/yaml') {
    return withinDepth(parsed(() => parseUntrustedYaml(text, MAX_BODY_NESTING), 'yaml'), 'yaml');
  }
  throw unsupportedMediaType(BODY_TYPES);
}

function parsed(parse: () => unknown, what: 'json' | 'yaml'): unknown {
  try {
    return parse();
  } catch (err) {
    throw badRequest(`${what} parse error: ${(err as Error).message}`);
  }
}

/** The value, unless it nests deeper than MAX_BODY_NESTING (checked without recursion: the value may be that deep). */
function withinDepth(value: unknown, what: 'json' | 'yaml'): unknown {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_BODY_NESTING) throw badRequest(`${what} parse error: exceeded max depth: objects and arrays nest more than ${MAX_BODY_NESTING} levels deep`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return value;
}

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export function parseFieldValidation(value: string | null): FieldValidation {
  if (value === null || value === '') return 'Warn';
  if (value === 'Ignore' || value === 'Warn' || value === 'Strict') return value;
  throw badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", got ${JSON.stringify(value)}`);
}

export interface DecodedBody<T> {
  object: T;
  warnings: string[];
}

/**
 * Decodes a parsed body into the kind as Go's typed decoder does; `kind` names it in messages
 * (`CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: ...`).
 */
export function decodeObject<T>(value: unknown, schema: ObjectSchema, kind: string, version: string, validation: FieldValidation): DecodedBody<T> {
  const prefix = `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`${prefix}: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type struct`);
  }
  let decoded;
  try {
    decoded = decodeWithSchema(value, schema);
  } catch (err) {
    if (err instanceof DecodeError) throw badRequest(`${prefix}: ${err.message}`);
    throw err;
  }
  const warnings: string[] = [];
  if (decoded.unknownFields.length > 0) {
    if (validation === 'Strict') {
      throw badRequest(`${prefix}: strict decoding error: ${decoded.unknownFields.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ')}`);
    }
    if (validation === 'Warn') for (const f of decoded.unknownFields) warnings.push(`unknown field ${JSON.stringify(f)}`);
  }
  return { object: decoded.value as T, warnings };
}
