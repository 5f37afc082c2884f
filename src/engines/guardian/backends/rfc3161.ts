/**
 * The RFC 3161 anchor backend: a Time-Stamp Authority signs the combined root and a time. The
 * token (the TimeStampResp exactly as the TSA sent it) is the evidence; checking it needs no
 * network, only the configured trust anchors. A TSA is trusted for time, not for correctness, so
 * every reply is verified as strictly as stored evidence before it is accepted.
 */
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier,
  Certificate,
  EncapsulatedContentInfo,
  ExtKeyUsage,
  MessageImprint,
  PKIStatus,
  SignedData,
  SignedDataVerifyError,
  TSTInfo,
  TimeStampReq,
  TimeStampResp,
  id_ContentType_Data,
  id_ContentType_SignedData,
  id_eContentType_TSTInfo,
  id_ExtKeyUsage,
  id_sha256,
  type SignedDataVerifyResult,
} from 'pkijs';
import { z } from 'zod';
import { toHex } from '../../../core/bytes.js';
import { VaultMeshError, type ErrorCode } from '../../../core/errors.js';
import type { AnchorBackend, AnchorEvidence, EvidenceFile, VerifiedAnchor } from '../backend.js';

export const rfc3161ConfigSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and dashes, at most 32'),
  url: z.url({ protocol: /^https?$/, error: 'an http or https URL' }),
  /** PEM, one or more certificates: the trust anchors the TSA's certificate must chain to. */
  ca_cert_path: z.string().min(1),
  /** PEM of the TSA's certificate, for TSAs that leave it out of their tokens. */
  tsa_cert_path: z.string().min(1).optional(),
  /** SHA-256 of the TSA signer certificate's DER, lower-case hex: accept that certificate only. */
  pin_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the lower-case hex SHA-256 of the DER certificate')
    .optional(),
  timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
});

export type Rfc3161Config = z.output<typeof rfc3161ConfigSchema>;

const TOKEN_FILE = 'token.tsr';
const ID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
const ID_CONTENT_TYPE_ATTRIBUTE = '1.2.840.113549.1.9.3';
const ID_COMMON_NAME = '2.5.4.3';

/** PKIFailureInfo bit names (RFC 3161 §2.4.2), by bit number. */
const FAILURE_INFO: Record<number, string> = {
  0: 'badAlg',
  2: 'badRequest',
  5: 'badDataFormat',
  14: 'timeNotAvailable',
  15: 'unacceptedPolicy',
  16: 'unacceptedExtension',
  17: 'addInfoNotAvailable',
  25: 'systemFailure',
};

interface CheckedToken {
  tstInfo: TSTInfo;
  signerSha256: string;
  signerName: string;
  anchorName: string;
}

function configError(key: string, message: string, cause?: unknown): VaultMeshError {
  return new VaultMeshError('INVALID_CONFIG', `rfc3161 ${key}: ${message}`, {
    hint: `point ${key} at a readable PEM file of X.509 certificates`,
    cause,
  });
}

function loadCertificates(key: string, path: string): Certificate[] {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    throw configError(key, `cannot read ${path}`, cause);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw configError(key, `${path} holds no PEM certificate`);
  return blocks.map((block) => {
    try {
      return Certificate.fromBER(new X509Certificate(block).raw);
    } catch (cause) {
      throw configError(key, `${path} holds a certificate that does not parse`, cause);
    }
  });
}

function commonName(certificate: Certificate): string {
  const cn = certificate.subject.typesAndValues.find((t) => t.type === ID_COMMON_NAME);
  return cn === undefined ? '(no CN)' : cn.value.valueBlock.value;
}

function certificateSha256(certificate: Certificate): string {
  return createHash('sha256').update(new Uint8Array(certificate.toSchema().toBER())).digest('hex');
}

function statusName(status: number): string {
  return PKIStatus[status] ?? `status ${status}`;
}

function failureText(response: TimeStampResp): string {
  const parts: string[] = [];
  const failInfo = response.status.failInfo?.valueBlock.valueHexView;
  if (failInfo !== undefined) {
    for (let bit = 0; bit < failInfo.length * 8; bit++) {
      if ((failInfo[bit >> 3]! >> (7 - (bit & 7))) & 1)
        parts.push(FAILURE_INFO[bit] ?? `failInfo bit ${bit}`);
    }
  }
  for (const text of response.status.statusStrings ?? []) parts.push(JSON.stringify(text.valueBlock.value));
  return parts.length === 0 ? 'no failInfo' : parts.join(', ');
}

/** A strict DER read: the whole input must be one TimeStampResp, nothing trailing. */
function decodeResponse(bytes: Uint8Array, code: ErrorCode, source: string): TimeStampResp {
  const asn1 = asn1js.fromBER(bytes);
  try {
    if (asn1.offset !== bytes.length)
      throw new Error(asn1.result.error || 'trailing bytes after the structure');
    return new TimeStampResp({ schema: asn1.result });
  } catch (cause) {
    throw new VaultMeshError(code, `${source} is not a DER TimeStampResp (RFC 3161)`, {
      cause,
      evidence: { bytes: bytes.length },
    });
  }
}

function invalid(code: ErrorCode, message: string, evidence?: Record<string, unknown>): VaultMeshError {
  return new VaultMeshError(code, message, evidence === undefined ? {} : { evidence });
}

export function createRfc3161Backend(config: Rfc3161Config, baseDir: string): AnchorBackend {
  const trusted = loadCertificates('ca_cert_path', resolve(baseDir, config.ca_cert_path));
  const extra =
    config.tsa_cert_path === undefined
      ? []
      : loadCertificates('tsa_cert_path', resolve(baseDir, config.tsa_cert_path));

  async function check(digest: Uint8Array, response: TimeStampResp): Promise<CheckedToken> {
    const status = response.status.status;
    if (status !== PKIStatus.granted && status !== PKIStatus.grantedWithMods) {
      throw invalid('BUNDLE_INVALID', `the token's status is ${statusName(status)}, not granted`);
    }
    const token = response.timeStampToken;
    if (token === undefined || token.contentType !== id_ContentType_SignedData) {
      throw invalid('BUNDLE_INVALID', 'the reply holds no CMS SignedData time-stamp token');
    }
    let signedData: SignedData;
    let tstInfo: TSTInfo;
    try {
      signedData = new SignedData({ schema: token.content });
      const eContent = signedData.encapContentInfo.eContent;
      if (signedData.encapContentInfo.eContentType !== id_eContentType_TSTInfo || eContent === undefined) {
        throw new Error(`eContentType ${signedData.encapContentInfo.eContentType}`);
      }
      tstInfo = TSTInfo.fromBER(eContent.getValue());
    } catch (cause) {
      throw new VaultMeshError('BUNDLE_INVALID', 'the token is not a CMS SignedData over a TSTInfo', {
        cause,
      });
    }

    const imprint = tstInfo.messageImprint;
    const stamped = imprint.hashedMessage.valueBlock.valueHexView;
    if (imprint.hashAlgorithm.algorithmId !== id_sha256 || toHex(stamped) !== toHex(digest)) {
      throw invalid('BUNDLE_INVALID', 'the token stamps another digest', {
        expected: `sha256:${toHex(digest)}`,
        stamped: `${imprint.hashAlgorithm.algorithmId}:${toHex(stamped)}`,
      });
    }

    // RFC 3161 §2.4.2: the TSA's signature is the only one a token may carry.
    const signerInfo = signedData.signerInfos[0];
    if (signerInfo === undefined || signedData.signerInfos.length !== 1) {
      throw invalid(
        'SIGNATURE_INVALID',
        `the token carries ${signedData.signerInfos.length} signatures, not 1`,
      );
    }
    // The signed content-type attribute is what protects the eContentType; pkijs only checks
    // that it is present, so its value is checked here.
    const contentType = signerInfo.signedAttrs?.attributes.find((a) => a.type === ID_CONTENT_TYPE_ATTRIBUTE);
    const signedType: unknown = contentType?.values[0];
    if (
      !(signedType instanceof asn1js.ObjectIdentifier) ||
      signedType.getValue() !== id_eContentType_TSTInfo
    ) {
      throw invalid('SIGNATURE_INVALID', 'the token signature does not cover a TSTInfo content type');
    }

    // pkijs verifies a TSTInfo by hashing the original data again, which a digest-only stamp does
    // not have (the imprint was checked above). Presented as plain data, the same signed
    // attributes, eContent and certificates go through the signature and chain checks unchanged.
    const relabelled = new SignedData({
      version: signedData.version,
      digestAlgorithms: signedData.digestAlgorithms,
      encapContentInfo: new EncapsulatedContentInfo({
        eContentType: id_ContentType_Data,
        eContent: signedData.encapContentInfo.eContent,
      }),
      certificates: [...extra, ...(signedData.certificates ?? [])],
      signerInfos: signedData.signerInfos,
    });
    const verifyWith = async (checkChain: boolean): Promise<SignedDataVerifyResult> => {
      try {
        // The signer certificate must have been valid when it stamped, not still be valid now.
        return await relabelled.verify({
          signer: 0,
          checkChain,
          trustedCerts: trusted,
          checkDate: tstInfo.genTime,
          extendedMode: true,
        });
      } catch (cause) {
        if (cause instanceof SignedDataVerifyError && (cause.code === 2 || cause.code === 3)) {
          throw new VaultMeshError('UNKNOWN_SIGNER', 'the token does not include the signer certificate', {
            hint: "set tsa_cert_path to the TSA's certificate",
            cause,
          });
        }
        if (cause instanceof SignedDataVerifyError && cause.code === 5) {
          throw new VaultMeshError(
            'UNKNOWN_SIGNER',
            'the signer certificate is not trusted (does not chain to ca_cert_path)',
            {
              hint: "put the TSA's root (or issuing) CA certificate in ca_cert_path",
              cause,
              evidence: { detail: cause.message },
            },
          );
        }
        throw new VaultMeshError('SIGNATURE_INVALID', 'the token signature does not verify', {
          cause,
          evidence: { detail: cause instanceof Error ? cause.message : String(cause) },
        });
      }
    };
    // pkijs checks the chain before the signature, at the genTime it has not verified yet: the
    // signature goes first, so that a forged genTime reads as a bad signature, not a bad chain.
    if ((await verifyWith(false)).signatureVerified !== true) {
      throw invalid('SIGNATURE_INVALID', 'the token signature does not verify');
    }
    const { signerCertificate: signer, certificatePath } = await verifyWith(true);
    const anchor = certificatePath.at(-1);
    if (signer == null || anchor === undefined) {
      throw invalid(
        'UNKNOWN_SIGNER',
        'the signer certificate is not trusted (does not chain to ca_cert_path)',
      );
    }

    const eku = signer.extensions?.find((e) => e.extnID === id_ExtKeyUsage);
    if (
      !(eku?.parsedValue instanceof ExtKeyUsage) ||
      !eku.parsedValue.keyPurposes.includes(ID_KP_TIME_STAMPING)
    ) {
      throw invalid('UNKNOWN_SIGNER', 'the signer certificate lacks the timeStamping extended key usage', {
        signer: commonName(signer),
      });
    }
    if (!eku.critical) {
      throw invalid(
        'UNKNOWN_SIGNER',
        'the signer certificate marks its timeStamping extended key usage non-critical (RFC 3161 §2.3 requires critical)',
        { signer: commonName(signer) },
      );
    }

    const signerSha256 = certificateSha256(signer);
    if (config.pin_sha256 !== undefined && signerSha256 !== config.pin_sha256) {
      throw invalid('UNKNOWN_SIGNER', 'the signer does not match pin_sha256', {
        expected: config.pin_sha256,
        actual: signerSha256,
      });
    }
    return { tstInfo, signerSha256, signerName: commonName(signer), anchorName: commonName(anchor) };
  }

  async function post(query: ArrayBuffer, signal: AbortSignal): Promise<Uint8Array> {
    const timeout = AbortSignal.timeout(config.timeout_ms);
    let response: Response;
    let body: Uint8Array;
    try {
      response = await fetch(config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
        body: query,
        signal: AbortSignal.any([signal, timeout]),
      });
      body = new Uint8Array(await response.arrayBuffer());
    } catch (cause) {
      const message = timeout.aborted
        ? `the TSA at ${config.url} did not answer within ${config.timeout_ms} ms`
        : signal.aborted
          ? `the request to the TSA at ${config.url} was aborted`
          : `cannot reach the TSA at ${config.url}`;
      throw new VaultMeshError('IO_ERROR', message, { cause });
    }
    if (response.status !== 200) {
      throw new VaultMeshError('IO_ERROR', `the TSA at ${config.url} answered HTTP ${response.status}`);
    }
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/timestamp-reply') {
      throw new VaultMeshError(
        'IO_ERROR',
        `the TSA at ${config.url} answered ${type || 'no content type'}, not application/timestamp-reply`,
      );
    }
    return body;
  }

  function evidenceOf(checked: CheckedToken, reply: Uint8Array): AnchorEvidence {
    const genTime = checked.tstInfo.genTime.toISOString();
    return {
      status: 'confirmed',
      files: [{ name: TOKEN_FILE, bytes: reply }],
      summary: {
        tsa: config.name,
        url: config.url,
        gen_time: genTime,
        serial: checked.tstInfo.serialNumber.toBigInt().toString(16),
        policy: checked.tstInfo.policy,
        signer: checked.signerName,
        signer_sha256: checked.signerSha256,
      },
      time: genTime,
    };
  }

  return {
    kind: 'rfc3161',
    name: config.name,
    endpoint: config.url,

    async submit({ digest, signal }) {
      if (digest.length !== 32) {
        throw new VaultMeshError('INVALID_ARGUMENT', `the digest to stamp is ${digest.length} bytes, not 32`);
      }
      const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`);
      // The combined root is already a SHA-256 output, so it is the imprint itself: the TSA
      // stamps the digest as the hash of a message that the ledger never needs to show.
      const request = new TimeStampReq({
        version: 1,
        messageImprint: new MessageImprint({
          hashAlgorithm: new AlgorithmIdentifier({
            algorithmId: id_sha256,
            algorithmParams: new asn1js.Null(),
          }),
          hashedMessage: new asn1js.OctetString({ valueHex: digest }),
        }),
        nonce: asn1js.Integer.fromBigInt(nonce),
        certReq: true,
      });
      const reply = await post(request.toSchema().toBER(), signal);
      const response = decodeResponse(reply, 'IO_ERROR', `the reply of the TSA at ${config.url}`);
      const status = response.status.status;
      if (status !== PKIStatus.granted && status !== PKIStatus.grantedWithMods) {
        throw new VaultMeshError(
          'IO_ERROR',
          `the TSA at ${config.url} refused the request: ${statusName(status)} (${failureText(response)})`,
        );
      }
      const checked = await check(digest, response);
      if (checked.tstInfo.nonce?.toBigInt() !== nonce) {
        throw invalid('BUNDLE_INVALID', 'the nonce in the reply differs from the request', {
          sent: nonce.toString(16),
          received: checked.tstInfo.nonce?.toBigInt().toString(16) ?? null,
        });
      }
      return evidenceOf(checked, reply);
    },

    async verify(digest: Uint8Array, files: readonly EvidenceFile[]): Promise<VerifiedAnchor> {
      const file = files.find((f) => f.name === TOKEN_FILE);
      if (file === undefined) throw invalid('BUNDLE_INVALID', `the evidence has no ${TOKEN_FILE}`);
      const checked = await check(digest, decodeResponse(file.bytes, 'BUNDLE_INVALID', TOKEN_FILE));
      const genTime = checked.tstInfo.genTime.toISOString();
      const serial = checked.tstInfo.serialNumber.toBigInt().toString(16);
      return {
        detail: `RFC 3161 token from ${checked.signerName} at ${genTime} (serial ${serial}), chained to ${checked.anchorName}`,
        time: genTime,
        final: true,
      };
    },
  };
}
