// Test certificates for etcd over mutual TLS, made with the real openssl CLI (the judge, not our x509 code):
// a CA, a server certificate for 127.0.0.1, a client certificate, and a client certificate from a second,
// unrelated CA that etcd must reject.
import path from 'node:path';
import { opensslCa, opensslLeaf } from '../helpers/openssl.js';

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

const CA = { days: 1, keyUsage: 'critical,keyCertSign,cRLSign' };
const leaf = (dir: string, name: string, ca: string, ext: string) =>
  opensslLeaf(dir, name, { subject: `/CN=${name}`, ext, ca: { cert: path.join(dir, `${ca}.crt`), key: path.join(dir, `${ca}.key`) }, days: 1 });

export async function makeEtcdCerts(dir: string): Promise<EtcdTestCerts> {
  await Promise.all([opensslCa(dir, 'etcd-ca', { subject: '/CN=etcd-ca', ...CA }), opensslCa(dir, 'other-ca', { subject: '/CN=other-ca', ...CA })]);
  await Promise.all([
    leaf(
      dir,
      'etcd-server',
      'etcd-ca',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n',
    ),
    leaf(dir, 'apiserver-etcd-client', 'etcd-ca', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'),
    leaf(dir, 'intruder', 'other-ca', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'),
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
