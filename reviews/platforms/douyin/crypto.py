"""Douyin's push crypto (douyin.md §1): WeChat's scheme with a JSON envelope and a 32-byte prefix.

Every push (the component_ticket, authorizations, PACKAGE_AUDIT) is a JSON body
{"Nonce", "TimeStamp", "Encrypt", "MsgSignature"}, nothing in the query string:

- MsgSignature = hex(sha1(join(sort([token, TimeStamp, Nonce, Encrypt])))), compared in
  constant time and without regard to case;
- key = base64decode(EncodingAESKey + "="), IV = its first 16 bytes, AES-256-CBC;
- plaintext = random(32 bytes) ‖ len(msg) (4 bytes, big-endian) ‖ msg ‖ component appid,
  padded PKCS#7 on 32-byte blocks. The prefix is 32 bytes, not WeChat's 16: the reference's
  test vectors (tests/reviews/douyin/test_crypto.py) only decrypt that way.

The encrypting half is here too, so the simulator and the tests push exactly what Douyin would.
"""

import base64
import binascii
import hmac
import json
import secrets
import struct

from reviews.platforms.message_crypto import (  # noqa: F401 -- the shared scheme, named here for callers
    AppIdMismatch,
    CryptoError,
    msg_signature,
    signature_matches,
)
from reviews.platforms.message_crypto import aes_key as _aes_key
from reviews.platforms.message_crypto import cipher as _cipher

BLOCK = 32
RANDOM_BYTES = 32
ENVELOPE_FIELDS = ("Nonce", "TimeStamp", "Encrypt", "MsgSignature")


def _unpad(data: bytes) -> bytes:
    """The reference: drop the last p bytes when 1 <= p <= 32, else nothing (its demo does so)."""
    amount = data[-1] if data else 0
    return data[:-amount] if 1 <= amount <= BLOCK and len(data) >= amount else data


def decrypt_message(encrypted_b64: str, *, encoding_aes_key: str, appid: str) -> str:
    """The JSON message inside, after checking its length and that it was meant for `appid`."""
    try:
        data = base64.b64decode(encrypted_b64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("The encrypted message is not valid base64.") from None
    if not data or len(data) % 16:
        raise CryptoError("The encrypted message is not a whole number of AES blocks.")
    decryptor = _cipher(_aes_key(encoding_aes_key)).decryptor()
    content = _unpad(decryptor.update(data) + decryptor.finalize())[RANDOM_BYTES:]
    if len(content) < 4:
        raise CryptoError("The decrypted message is too short.")
    (length,) = struct.unpack(">I", content[:4])
    if 4 + length > len(content):
        raise CryptoError("The decrypted message's length field exceeds its size.")
    msg, trailing = content[4 : 4 + length], content[4 + length :]
    if not hmac.compare_digest(trailing, appid.encode()):
        raise AppIdMismatch("The message was encrypted for another component app.")
    try:
        return msg.decode()
    except UnicodeDecodeError:
        raise CryptoError("The decrypted message is not UTF-8.") from None


def encrypt_message(plaintext: str, *, encoding_aes_key: str, appid: str) -> str:
    msg = plaintext.encode()
    full = secrets.token_bytes(RANDOM_BYTES) + struct.pack(">I", len(msg)) + msg + appid.encode()
    amount = BLOCK - len(full) % BLOCK
    encryptor = _cipher(_aes_key(encoding_aes_key)).encryptor()
    padded = full + bytes([amount]) * amount
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def parse_envelope(body: bytes) -> dict:
    """The four envelope fields as strings; a body without them is refused (no plaintext pushes)."""
    try:
        data = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError):
        raise CryptoError("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise CryptoError("The body must be a JSON object.")
    fields = {name: data.get(name) for name in ENVELOPE_FIELDS}
    missing = [name for name, value in fields.items() if value in (None, "")]
    if missing:
        raise CryptoError(f"The body has no {', '.join(missing)}.")
    return {name: str(value) for name, value in fields.items()}


def encrypted_envelope(
    plaintext: str, *, token: str, encoding_aes_key: str, appid: str, timestamp: str, nonce: str
) -> bytes:
    """The body Douyin POSTs for `plaintext` (the simulator's pushes and the tests')."""
    encrypted = encrypt_message(plaintext, encoding_aes_key=encoding_aes_key, appid=appid)
    envelope = {
        "Nonce": nonce,
        "TimeStamp": timestamp,
        "Encrypt": encrypted,
        "MsgSignature": msg_signature(token, timestamp, nonce, encrypted),
    }
    return json.dumps(envelope).encode()
