// Test certificates for etcd over mutual TLS, made with the real openssl CLI (the judge, not our x509 code):
// a CA, a server certificate for 127.0.0.1, a client certificate, and a client certificate from a second,
// unrelated CA that etcd must reject.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../helpers/cli.js';

export interface EtcdTestCerts {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  otherCaFile: string;
  otherClientCertFile: string;
  otherClientKeyFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const res = await run('openssl', args, { cwd });
  assert.equal(res.code, 0, `openssl ${args.join(' ')} failed: ${res.stderr}`);
}

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '1',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

async function makeLeaf(dir: string, name: string, ca: string, ext: string): Promise<void> {
  await writeFile(path.join(dir, `${name}.ext`), ext);
  await openssl(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`],
    dir,
  );
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`],
    dir,
  );
}

export async function makeEtcdCerts(dir: string): Promise<EtcdTestCerts> {
  await Promise.all([makeCa(dir, 'etcd-ca'), makeCa(dir, 'other-ca')]);
  await Promise.all([
    makeLeaf(
      dir,
      'etcd-server',
      'etcd-ca',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n',
    ),
    makeLeaf(dir, 'apiserver-etcd-client', 'etcd-ca', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'),
    makeLeaf(dir, 'intruder', 'other-ca', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'),
  ]);
  const f = (n: string) => path.join(dir, n);
  return {
    caFile: f('etcd-ca.crt'),
    serverCertFile: f('etcd-server.crt'),
    serverKeyFile: f('etcd-server.key'),
    clientCertFile: f('apiserver-etcd-client.crt'),
    clientKeyFile: f('apiserver-etcd-client.key'),
    otherCaFile: f('other-ca.crt'),
    otherClientCertFile: f('intruder.crt'),
    otherClientKeyFile: f('intruder.key'),
  };
}
