/**
 * SSH private keys for `--ssh ID=KEYFILE`: OpenSSH's own format ("OPENSSH PRIVATE KEY") and the
 * PEM forms (PKCS#1, SEC1, PKCS#8), for ed25519, RSA and ECDSA (P-256/384/521) keys without a
 * passphrase, as BuildKit's in-process agent takes them. Each key can list its public blob and
 * sign as an ssh-agent does.
 */
import { createPrivateKey, sign, type webcrypto, type KeyObject } from 'node:crypto';
import { concat, mpint, str, WireReader } from './wire.ts';

export interface AgentKey {
  /** The public key in SSH wire format (what `ssh-add -L` prints, base64). */
  blob: Uint8Array;
  comment: string;
  /** An SSH signature blob over `data`; `flags` as in the agent's sign request (RSA SHA-2). */
  sign(data: Uint8Array, flags: number): Uint8Array;
}

const SSH_AGENT_RSA_SHA2_256 = 2;
const SSH_AGENT_RSA_SHA2_512 = 4;
const CURVES: Record<string, { jwk: string; hash: string; size: number }> = {
  nistp256: { jwk: 'P-256', hash: 'sha256', size: 32 },
  nistp384: { jwk: 'P-384', hash: 'sha384', size: 48 },
  nistp521: { jwk: 'P-521', hash: 'sha512', size: 66 },
};

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const fromB64url = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64url'));
const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
const unbig = (n: bigint) => {
  const hex = n.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
};
const pad = (b: Uint8Array, size: number) => (b.byteLength >= size ? b : concat(new Uint8Array(size - b.byteLength), b));

/** Parses one private key file's text; throws an Error saying what is wrong with it. */
export function parsePrivateKey(text: string, comment: string): AgentKey {
  const openssh = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (openssh) return fromJwk(opensshToJwk(new Uint8Array(Buffer.from(openssh[1]!.replace(/\s+/g, ''), 'base64'))), comment);
  if (/Proc-Type:\s*4,ENCRYPTED|BEGIN ENCRYPTED PRIVATE KEY/.test(text)) throw new Error('the key is protected by a passphrase (add it to an ssh-agent and pass the agent socket)');
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new Error('not a private key (PEM or OpenSSH format)');
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    throw new Error(`cannot read the private key: ${(err as Error).message}`);
  }
  return fromJwk(key.export({ format: 'jwk' }), comment);
}

/** The OpenSSH "openssh-key-v1" container with one unencrypted key, as a JWK. */
function opensshToJwk(bin: Uint8Array): webcrypto.JsonWebKey {
  const magic = new TextEncoder().encode('openssh-key-v1\0');
  if (!magic.every((b, i) => bin[i] === b)) throw new Error('not an OpenSSH private key');
  const r = new WireReader(bin.subarray(magic.byteLength));
  const cipher = r.text();
  r.text(); // kdf name
  r.string(); // kdf options
  if (cipher !== 'none') throw new Error('the key is protected by a passphrase (add it to an ssh-agent and pass the agent socket)');
  if (r.uint32() !== 1) throw new Error('only files holding one key are supported');
  r.string(); // public key
  const p = new WireReader(r.string());
  if (p.uint32() !== p.uint32()) throw new Error('corrupt OpenSSH private key (check bytes differ)');
  const type = p.text();
  if (type === 'ssh-ed25519') {
    const pub = p.string();
    const priv = p.string();
    return { kty: 'OKP', crv: 'Ed25519', x: b64url(pub), d: b64url(priv.subarray(0, 32)) };
  }
  if (type === 'ssh-rsa') {
    const [n, e, d, qi, pp, q] = [p.mpint(), p.mpint(), p.mpint(), p.mpint(), p.mpint(), p.mpint()];
    const D = big(d);
    return {
      kty: 'RSA', n: b64url(n), e: b64url(e), d: b64url(d), p: b64url(pp), q: b64url(q), qi: b64url(qi),
      dp: b64url(unbig(D % (big(pp) - 1n))), dq: b64url(unbig(D % (big(q) - 1n))),
    };
  }
  const ec = /^ecdsa-sha2-(nistp\d+)$/.exec(type);
  if (ec && CURVES[ec[1]!]) {
    const curve = CURVES[ec[1]!]!;
    p.text(); // curve name
    const point = p.string();
    const d = p.mpint();
    const size = curve.size;
    return { kty: 'EC', crv: curve.jwk, x: b64url(point.subarray(1, 1 + size)), y: b64url(point.subarray(1 + size)), d: b64url(pad(d, size)) };
  }
  throw new Error(`unsupported key type ${type}`);
}

function fromJwk(jwk: webcrypto.JsonWebKey, comment: string): AgentKey {
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    return {
      blob: concat(str('ssh-ed25519'), str(fromB64url(jwk.x))),
      comment,
      sign: (data) => concat(str('ssh-ed25519'), str(new Uint8Array(sign(null, data, key)))),
    };
  }
  if (jwk.kty === 'RSA') {
    return {
      blob: concat(str('ssh-rsa'), mpint(fromB64url(jwk.e)), mpint(fromB64url(jwk.n))),
      comment,
      sign: (data, flags) => {
        const [alg, hash] = flags & SSH_AGENT_RSA_SHA2_512 ? ['rsa-sha2-512', 'sha512'] : flags & SSH_AGENT_RSA_SHA2_256 ? ['rsa-sha2-256', 'sha256'] : ['ssh-rsa', 'sha1'];
        return concat(str(alg!), str(new Uint8Array(sign(hash!, data, key))));
      },
    };
  }
  const name = Object.keys(CURVES).find((k) => CURVES[k]!.jwk === jwk.crv);
  if (jwk.kty === 'EC' && name) {
    const curve = CURVES[name]!;
    const alg = `ecdsa-sha2-${name}`;
    const point = concat(new Uint8Array([4]), pad(fromB64url(jwk.x), curve.size), pad(fromB64url(jwk.y), curve.size));
    return {
      blob: concat(str(alg), str(name), str(point)),
      comment,
      sign: (data) => {
        const rs = new Uint8Array(sign(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' }));
        const half = rs.byteLength / 2;
        return concat(str(alg), str(concat(mpint(rs.subarray(0, half)), mpint(rs.subarray(half)))));
      },
    };
  }
  throw new Error(`unsupported key type ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}`);
}
