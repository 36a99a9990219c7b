// The real openssl CLI as the judge and as the maker of test PKIs: one runner that fails loudly, and the two
// steps every test PKI is made of (a self-signed CA, a leaf signed by it from an extension file).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from './cli.js';

/** Runs openssl in `cwd`; throws with its stderr when it exits non-zero, else returns its stdout. */
export async function openssl(args: string[], cwd: string): Promise<string> {
  const r = await run('openssl', args, { cwd });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A self-signed CA (EC P-256): `<dir>/<name>.key` and `<dir>/<name>.crt`. */
export async function opensslCa(dir: string, name: string, options: { subject: string; days: number; keyUsage: string }): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
  await openssl(
    ['req', '-x509', '-new', '-key', keyFile, '-subj', options.subject, '-days', String(options.days), '-out', certFile, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', `keyUsage=${options.keyUsage}`],
    dir,
  );
  return { certFile, keyFile };
}

/**
 * A leaf (EC P-256) signed by a CA: `<dir>/<name>.key`, `.csr`, `.ext` (the given extensions), `.srl` and `.crt`.
 * Each leaf has its own serial file: with the CA's shared `<ca>.srl`, two leaves signed at once race on it and
 * openssl fails with "Unable to load number" (this broke a CI run).
 */
export async function opensslLeaf(
  dir: string,
  name: string,
  options: { subject: string; ext: string; ca: { cert: string; key: string }; days: number },
): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  const certFile = path.join(dir, `${name}.crt`);
  const extFile = path.join(dir, `${name}.ext`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
  await openssl(['req', '-new', '-key', keyFile, '-subj', options.subject, '-out', csrFile], dir);
  await writeFile(extFile, options.ext);
  await openssl(
    ['x509', '-req', '-in', csrFile, '-CA', options.ca.cert, '-CAkey', options.ca.key, '-CAserial', path.join(dir, `${name}.srl`), '-CAcreateserial', '-days', String(options.days), '-out', certFile, '-extfile', extFile],
    dir,
  );
  return { certFile, keyFile };
}

/**
 * A PEM CSR made by openssl in `dir`: `<name>.key` (EC P-256, unless `keyFile` names an existing key) and
 * `<name>.csr`, with a subjectAltName extension when `sans` is given. `b64` is the PEM in base64, as
 * spec.request carries it.
 */
export async function opensslCsr(
  dir: string,
  name: string,
  options: { subject: string; sans?: string; keyFile?: string },
): Promise<{ b64: string; keyFile: string; csrFile: string }> {
  const keyFile = options.keyFile ?? path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  if (!options.keyFile) await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
  await openssl(['req', '-new', '-key', keyFile, '-subj', options.subject, '-out', csrFile, ...(options.sans ? ['-addext', `subjectAltName=${options.sans}`] : [])], dir);
  return { b64: (await readFile(csrFile)).toString('base64'), keyFile, csrFile };
}
