/**
 * Artifact signatures. The node's Ed25519 signature is a C2SP signed note whose text names the
 * component, version and SHA-256 of the artifact, so anyone with the node's verifier key can check
 * it with any signed-note tool. The OpenPGP signature is a standard detached signature over the
 * artifact's bytes, which `gpg --verify artifact.asc artifact` accepts.
 */
import { VaultMeshError } from '../../core/errors.js';
import { openNote, signNote, type NoteSigner, type NoteVerifier } from '../../core/note.js';

const STATEMENT_HEADER = 'vaultmesh.artifact@v1';

export interface ArtifactStatement {
  component: string;
  version: string;
  sha256: string;
}

export function statementText(s: ArtifactStatement): string {
  return `${STATEMENT_HEADER}\n${s.component}\n${s.version}\n${s.sha256}\n`;
}

export function signStatement(statement: ArtifactStatement, signer: NoteSigner): string {
  return signNote(statementText(statement), [signer]);
}

/** @throws VaultMeshError SIGNATURE_INVALID / UNKNOWN_SIGNER, or ARTIFACT_MISMATCH when the note names another artifact. */
export function verifyStatement(note: string, expected: ArtifactStatement, verifier: NoteVerifier): void {
  const opened = openNote(note, [verifier]);
  if (opened.text !== statementText(expected)) {
    throw new VaultMeshError('ARTIFACT_MISMATCH', 'the signed statement names a different artifact', {
      hint: 'the signature belongs to another component, version or artifact hash',
      evidence: { signed: opened.text, expected: statementText(expected) },
    });
  }
}

async function openpgpModule() {
  return import('openpgp');
}

export async function pgpSign(
  artifact: Uint8Array,
  armoredKey: string,
  passphrase?: string,
): Promise<{ signature: string; fingerprint: string }> {
  const openpgp = await openpgpModule();
  let key;
  try {
    key = await openpgp.readPrivateKey({ armoredKey });
    if (!key.isDecrypted()) {
      if (passphrase === undefined) {
        throw new VaultMeshError('INVALID_KEY', 'the OpenPGP key is protected by a passphrase', {
          hint: 'put the passphrase in an environment variable and name it with --pgp-passphrase-env',
        });
      }
      key = await openpgp.decryptKey({ privateKey: key, passphrase });
    }
  } catch (cause) {
    if (cause instanceof VaultMeshError) throw cause;
    throw new VaultMeshError('INVALID_KEY', `cannot use the OpenPGP key: ${(cause as Error).message}`, {
      cause,
      hint: 'pass an ASCII-armored private key (gpg --export-secret-keys --armor KEYID > key.asc)',
    });
  }
  const message = await openpgp.createMessage({ binary: artifact });
  const signature = await openpgp.sign({ message, signingKeys: key, detached: true, format: 'armored' });
  return { signature, fingerprint: key.getFingerprint().toUpperCase() };
}

/** @returns the fingerprint of the key that made the signature. @throws VaultMeshError SIGNATURE_INVALID. */
export async function pgpVerify(
  artifact: Uint8Array,
  armoredSignature: string,
  armoredPublicKey: string,
): Promise<string> {
  const openpgp = await openpgpModule();
  let publicKey;
  let signature;
  try {
    publicKey = await openpgp.readKey({ armoredKey: armoredPublicKey });
    signature = await openpgp.readSignature({ armoredSignature });
  } catch (cause) {
    throw new VaultMeshError(
      'INVALID_KEY',
      `cannot read the OpenPGP key or signature: ${(cause as Error).message}`,
      {
        cause,
        hint: 'pass an ASCII-armored public key (gpg --export --armor KEYID > key.pub.asc)',
      },
    );
  }
  const message = await openpgp.createMessage({ binary: artifact });
  const result = await openpgp.verify({
    message,
    signature,
    verificationKeys: publicKey,
    expectSigned: false,
  });
  const [first] = result.signatures;
  try {
    if (first === undefined) throw new Error('no signature found');
    await first.verified;
  } catch (cause) {
    throw new VaultMeshError(
      'SIGNATURE_INVALID',
      `OpenPGP signature does not verify: ${(cause as Error).message}`,
      {
        cause,
        hint: 'the artifact changed, or it was signed by another key than the one given',
      },
    );
  }
  return publicKey.getFingerprint().toUpperCase();
}
