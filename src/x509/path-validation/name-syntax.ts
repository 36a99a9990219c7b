// Go's syntax for the names a certificate carries (crypto/x509 verify.go, Go 1.23): domains as reverse labels
// and RFC 2821 mailboxes. The parser checks name-constraint values with them (as Go's ParseCertificate does)
// and the name-constraint checks match SANs with them (as Go's Verify does): one reading for both.

/**
 * Go's domainToReverseLabels as Go 1.23 has it: labels right to left, or null for an empty label (a leading
 * or trailing '.', or '..'; Go 1.19 still missed a leading one) or a byte outside 33..126. "" is no labels.
 */
export function reverseLabels(domain: string): string[] | null {
  if (domain.length === 0) return [];
  const labels = domain.split('.').reverse();
  if (labels[0] === '') return null;
  for (const l of labels) {
    if (l.length === 0) return null;
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      if (c < 33 || c > 126) return null;
    }
  }
  return labels;
}

export interface Mailbox {
  local: string;
  domain: string;
}

/** Go's parseRFC2821Mailbox. */
export function parseMailbox(input: string): Mailbox | null {
  if (input.length === 0) return null;
  let local = '';
  let i = 0;
  const code = (k: number) => input.charCodeAt(k);
  if (input[0] === '"') {
    i = 1;
    for (;;) {
      if (i >= input.length) return null;
      const c = code(i++);
      if (c === 34) break;
      if (c === 92) {
        if (i >= input.length) return null;
        const n = code(i);
        if (n === 11 || n === 12 || (n >= 1 && n <= 9) || (n >= 14 && n <= 127)) {
          local += input[i];
          i++;
        } else return null;
      } else if (c === 11 || c === 12 || c === 32 || c === 33 || c === 127 || (c >= 1 && c <= 8) || (c >= 14 && c <= 31) || (c >= 35 && c <= 91) || (c >= 93 && c <= 126)) {
        local += String.fromCharCode(c);
      } else return null;
    }
  } else {
    while (i < input.length) {
      let c = input[i]!;
      if (c === '\\') {
        i++;
        if (i >= input.length) return null;
        c = input[i]!;
        local += c;
        i++;
        continue;
      }
      if (/[0-9a-zA-Z!#$%&'*+\-/=?^_`{|}~.]/.test(c)) {
        local += c;
        i++;
      } else break;
    }
    if (local.length === 0) return null;
    if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return null;
  }
  if (i >= input.length || input[i] !== '@') return null;
  const domain = input.slice(i + 1);
  if (reverseLabels(domain) === null) return null;
  return { local, domain };
}
