#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Usage: python3 gen-interop-vectors.py jose-test-keys.h > vectors.json
# (needs python3-cryptography); paste the output into test-jose-interop.c.
# Independent JOSE vectors made with pyca/cryptography primitives, to check
# lib/jose against another implementation. Keys: lib/jose/jose-test-keys.h.
import base64, json, os, struct, sys
from cryptography.hazmat.primitives import serialization, hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
def lp(b): return struct.pack('>I', len(b)) + b
def kdf(z, alg_id, apu, apv, n):
    other = lp(alg_id.encode()) + lp(apu) + lp(apv) + struct.pack('>I', n * 8)
    return ConcatKDFHash(algorithm=hashes.SHA256(), length=n, otherinfo=other).derive(z)

src = open(sys.argv[1]).read()
def pem(name):
    start = src.index(name)
    lines = []
    for line in src[start:].splitlines()[1:]:
        s = line.strip().strip(';').strip('"')
        lines.append(s.replace('\\n', ''))
        if 'END PRIVATE KEY' in s: break
    return ('\n'.join(lines) + '\n').encode()
rsa = serialization.load_pem_private_key(pem('jose_test_rsa_pem'), None)
xk = serialization.load_pem_private_key(pem('jose_test_x25519_pem'), None)
p384 = serialization.load_pem_private_key(pem('jose_test_p384_pem'), None)

def coord(v, n): return v.to_bytes(n, 'big')
def ec_jwk(pub, crv, n):
    nums = pub.public_numbers()
    return {'kty': 'EC', 'crv': crv, 'x': b64u(coord(nums.x, n)), 'y': b64u(coord(nums.y, n))}

def jwe(hdr, cek, pt, ek=b'', aad=None):
    protected = b64u(json.dumps(hdr, separators=(',', ':')).encode())
    iv = os.urandom(12)
    full_aad = protected + ('.' + aad if aad else '')
    ct = AESGCM(cek).encrypt(iv, pt, full_aad.encode())
    out = {'protected': protected, 'iv': b64u(iv), 'ciphertext': b64u(ct[:-16]), 'tag': b64u(ct[-16:])}
    if ek: out['encrypted_key'] = b64u(ek)
    if aad: out['aad'] = aad
    return out

pt = b'interop plaintext \x00\x01\xff'
res = {}
# ECDH-ES direct, P-384, with apu/apv
eph = ec.generate_private_key(ec.SECP384R1())
z = eph.exchange(ec.ECDH(), p384.public_key())
apu, apv = b'ward-test-u', b'ward-test-v'
hdr = {'alg': 'ECDH-ES', 'enc': 'A256GCM', 'epk': ec_jwk(eph.public_key(), 'P-384', 48), 'apu': b64u(apu), 'apv': b64u(apv)}
res['p384_ecdh_es'] = jwe(hdr, kdf(z, 'A256GCM', apu, apv, 32), pt)
# ECDH-ES+A256KW, X25519
eph = x25519.X25519PrivateKey.generate()
z = eph.exchange(xk.public_key())
epk = {'kty': 'OKP', 'crv': 'X25519', 'x': b64u(eph.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))}
cek = os.urandom(32)
hdr = {'alg': 'ECDH-ES+A256KW', 'enc': 'A256GCM', 'epk': epk}
res['x25519_ecdh_es_a256kw'] = jwe(hdr, cek, pt, aes_key_wrap(kdf(z, 'ECDH-ES+A256KW', b'', b'', 32), cek))
# RSA-OAEP-256 with an aad member
cek = os.urandom(32)
ek = rsa.public_key().encrypt(cek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
res['rsa_oaep_256_aad'] = jwe({'alg': 'RSA-OAEP-256', 'enc': 'A256GCM', 'kid': 'k'}, cek, pt, ek, aad=b64u(b'extra authenticated data'))
# JWS ES384 and RS256
def jws(alg, sign):
    h = b64u(json.dumps({'alg': alg, 'typ': 'JWT'}, separators=(',', ':')).encode())
    p = b64u(b'{"iss":"ward-interop"}')
    return h + '.' + p + '.' + b64u(sign((h + '.' + p).encode()))
def es384(msg):
    r, s = decode_dss_signature(p384.sign(msg, ec.ECDSA(hashes.SHA384())))
    return coord(r, 48) + coord(s, 48)
res['jws_es384'] = jws('ES384', es384)
res['jws_rs256'] = jws('RS256', lambda m: rsa.sign(m, padding.PKCS1v15(), hashes.SHA256()))
res['plaintext_hex'] = pt.hex()
print(json.dumps(res, indent=1))
