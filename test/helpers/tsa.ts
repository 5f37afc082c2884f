/**
 * A test Time-Stamp Authority: a PKI made by the openssl CLI in a directory of its own, replies made
 * by `openssl ts -reply`, and a small node:http server in front of it that answers RFC 3161 queries
 * (POST, `application/timestamp-query`). The server calls `stamp`, which runs openssl synchronously:
 * a `vm` child talking to it must be run without blocking the test process (vmAsync, not vm).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TSA_POLICY = '1.3.6.1.4.1.99999.3161.1';

/** Certificate profiles (v3_*) and two TSA sections: one that stamps, one that only takes SHA-384. */
export const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_no_eku]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_soft_eku]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[tsa]
default_tsa = tsa_main
[tsa_main]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = ${TSA_POLICY}
other_policies = ${TSA_POLICY}
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[tsa_sha384_only]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = ${TSA_POLICY}
other_policies = ${TSA_POLICY}
digests = sha384
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;

/** A PKI directory driven by the openssl CLI; every file it makes is named `<name>.key/.csr/.crt`. */
export class TestPki {
  private nextSerial = 2;

  /** Writes openssl.cnf and the TSA serial file into `dir` (which must exist). */
  constructor(readonly dir: string) {
    writeFileSync(join(dir, 'openssl.cnf'), OPENSSL_CNF);
    writeFileSync(join(dir, 'serial'), '01\n');
  }

  /** Runs openssl in the PKI directory: `command` is split on spaces, `rest` is passed as is. */
  openssl(command: string, ...rest: string[]): void {
    const args = [...command.split(' '), ...rest];
    const run = spawnSync('openssl', args, { cwd: this.dir, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${run.stderr}`);
  }

  makeKey(name: string, rsa = false): void {
    const algorithm = rsa ? 'RSA -pkeyopt rsa_keygen_bits:2048' : 'EC -pkeyopt ec_paramgen_curve:P-256';
    this.openssl(`genpkey -algorithm ${algorithm} -out ${name}.key`);
  }

  /** A self-signed CA certificate `<name>.crt`. */
  makeRoot(name: string, cn: string): void {
    this.makeKey(name);
    this.openssl(
      `req -x509 -new -key ${name}.key -days 30 -config openssl.cnf -extensions v3_ca -out ${name}.crt -subj`,
      `/CN=${cn}`,
    );
  }

  /** A certificate `<name>.crt` issued by `issuer` with the `extensions` section of openssl.cnf. */
  makeLeaf(name: string, cn: string, issuer: string, extensions: string, rsa = false): void {
    this.makeKey(name, rsa);
    this.openssl(`req -new -key ${name}.key -config openssl.cnf -out ${name}.csr -subj`, `/CN=${cn}`);
    this.openssl(
      `x509 -req -in ${name}.csr -CA ${issuer}.crt -CAkey ${issuer}.key -set_serial ${this.nextSerial++} -days 30 ` +
        `-extfile openssl.cnf -extensions ${extensions} -out ${name}.crt`,
    );
  }

  /** The standard test TSA: root `ca` ("VaultMesh Test Root") and its RSA signer `tsa` ("VaultMesh Test TSA"). */
  makeTsa(): void {
    this.makeRoot('ca', 'VaultMesh Test Root');
    this.makeLeaf('tsa', 'VaultMesh Test TSA', 'ca', 'v3_tsa', true);
  }

  /** What `openssl ts -reply` answers to a query, signed by `signer` with `chain` attached. */
  stamp(query: Buffer, signer = 'tsa', chain = 'ca', section = 'tsa_main'): Buffer {
    writeFileSync(join(this.dir, 'query.tsq'), query);
    this.openssl(
      `ts -reply -config openssl.cnf -section ${section} -queryfile query.tsq ` +
        `-signer ${signer}.crt -inkey ${signer}.key -chain ${chain}.crt -out reply.tsr`,
    );
    return readFileSync(join(this.dir, 'reply.tsr'));
  }
}

export interface TsaServer {
  /** `http://127.0.0.1:<port>/tsa` */
  url: string;
  /** Stops listening and drops open connections; later calls do nothing. */
  close(): Promise<void>;
}

/**
 * An HTTP front for a TSA on 127.0.0.1: 415 for anything but a POST of
 * `application/timestamp-query`, otherwise `answer(query, res)` replies (or, to play dead, does not).
 */
export async function startTsaServer(
  answer: (query: Buffer, res: ServerResponse) => void,
): Promise<TsaServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(415).end();
        return;
      }
      answer(Buffer.concat(chunks), res);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
  let open = true;
  return {
    url,
    async close() {
      if (!open) return;
      open = false;
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

export interface TestTsa extends TsaServer {
  pki: TestPki;
  /** The trust anchor to configure as `ca_cert_path` (absolute). */
  caCertPath: string;
  /** How many queries it stamped. */
  stamped(): number;
  /** Closes the server and removes the PKI directory. */
  remove(): Promise<void>;
}

/** A working TSA: the standard PKI in a temp directory, stamping every query it gets. */
export async function startTsa(): Promise<TestTsa> {
  const dir = mkdtempSync(join(tmpdir(), 'vaultmesh-it-tsa-'));
  const pki = new TestPki(dir);
  pki.makeTsa();
  let count = 0;
  const server = await startTsaServer((query, res) => {
    const reply = pki.stamp(query);
    count++;
    res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(reply);
  });
  return {
    ...server,
    pki,
    caCertPath: join(dir, 'ca.crt'),
    stamped: () => count,
    async remove() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
