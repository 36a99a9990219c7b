// What cfssl prints on stdout for gencert/genkey/sign: a Go map[string]string, so keys sorted
// ("cert", "csr", "key"), compact JSON, one trailing newline — the input `cfssljson -bare NAME` reads.
import { goJsonStringify } from './go-json.js';

export interface CfsslResponse {
  cert?: string;
  csr?: string;
  key?: string;
}

export function formatCfsslResponse(r: CfsslResponse): string {
  const out: Record<string, string> = {};
  for (const k of ['cert', 'csr', 'key'] as const) if (r[k] !== undefined) out[k] = r[k];
  return `${goJsonStringify(out)}\n`;
}
