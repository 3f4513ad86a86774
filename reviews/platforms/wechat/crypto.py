"""WeChat's message encryption for pushed events (platform-apis.md §5.4).

Every push to a third-party platform is AES-256-CBC encrypted and signed:

- key = base64decode(EncodingAESKey + "="), 32 bytes; IV = its first 16 bytes;
- plaintext = random(16 bytes) + len(msg) as 4 bytes network order + msg + appid,
  padded PKCS#7 to a multiple of 32 bytes (not AES's 16);
- msg_signature = sha1 of the lexicographically sorted [token, timestamp, nonce, Encrypt].

For a third-party platform the trailing appid is the component appid, so a message
encrypted for another platform fails to decrypt here even with the same key. The
simulator imports the encrypting half to push events exactly as WeChat does.
"""

import base64
import binascii
import hmac
import json
import secrets
import struct
from xml.etree import ElementTree

from reviews.platforms.message_crypto import (  # noqa: F401 -- the shared scheme, named here for callers
    AppIdMismatch,
    CryptoError,
    msg_signature,
    signature_matches,
)
from reviews.platforms.message_crypto import aes_key as _aes_key
from reviews.platforms.message_crypto import cipher as _cipher

BLOCK = 32
RANDOM_BYTES = 16


def _pad(data: bytes) -> bytes:
    amount = BLOCK - len(data) % BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    amount = data[-1] if data else 0
    if not 1 <= amount <= BLOCK or len(data) < amount or data[-amount:] != bytes([amount]) * amount:
        raise CryptoError("The message's padding is invalid (wrong key?).")
    return data[:-amount]


def encrypt_message(
    plaintext: str, *, encoding_aes_key: str, appid: str, random16: bytes | None = None
) -> str:
    """Base64 of AES-256-CBC(random16 + length + msg + appid), as WeChat sends it."""
    random16 = secrets.token_hex(RANDOM_BYTES // 2).encode() if random16 is None else random16
    if len(random16) != RANDOM_BYTES:
        raise CryptoError("random16 must be exactly 16 bytes.")
    msg = plaintext.encode()
    full = random16 + struct.pack(">I", len(msg)) + msg + appid.encode()
    encryptor = _cipher(_aes_key(encoding_aes_key)).encryptor()
    return base64.b64encode(encryptor.update(_pad(full)) + encryptor.finalize()).decode()


def _decrypt_raw(encrypted_b64: str, key: bytes) -> bytes:
    try:
        data = base64.b64decode(encrypted_b64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("The encrypted message is not valid base64.") from None
    if not data or len(data) % 16:
        raise CryptoError("The encrypted message is not a whole number of AES blocks.")
    decryptor = _cipher(key).decryptor()
    return _unpad(decryptor.update(data) + decryptor.finalize())


def decrypt_message(encrypted_b64: str, *, encoding_aes_key: str, appid: str) -> str:
    """The message inside, after checking its length and that it was meant for `appid`."""
    content = _decrypt_raw(encrypted_b64, _aes_key(encoding_aes_key))[RANDOM_BYTES:]
    if len(content) < 4:
        raise CryptoError("The decrypted message is too short.")
    (length,) = struct.unpack(">I", content[:4])
    if 4 + length > len(content):
        raise CryptoError("The decrypted message's length field exceeds its size.")
    msg, trailing = content[4 : 4 + length], content[4 + length :]
    if not hmac.compare_digest(trailing, appid.encode()):
        raise AppIdMismatch("The message was encrypted for another appid.")
    try:
        return msg.decode()
    except UnicodeDecodeError:
        raise CryptoError("The decrypted message is not UTF-8.") from None


def _to_user_name(plaintext: str) -> str | None:
    """ToUserName of a message we are about to encrypt (our own trusted input)."""
    try:
        if plaintext.lstrip().startswith("{"):
            value = json.loads(plaintext).get("ToUserName")
        else:
            value = ElementTree.fromstring(plaintext).findtext("ToUserName")  # noqa: S314 - trusted input
    except (ValueError, ElementTree.ParseError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def encrypted_envelope(
    plaintext: str,
    *,
    token: str,
    encoding_aes_key: str,
    appid: str,
    timestamp: str,
    nonce: str,
    to_user_name: str | None = None,
) -> tuple[str, str]:
    """The POST body WeChat sends (XML with ToUserName and Encrypt) and its msg_signature.

    ToUserName defaults to the one inside the message (the mini program's original id),
    or the appid for authorization events, which carry none.
    """
    encrypted = encrypt_message(plaintext, encoding_aes_key=encoding_aes_key, appid=appid)
    to_user = to_user_name or _to_user_name(plaintext) or appid
    body = f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><Encrypt>{_cdata(encrypted)}</Encrypt></xml>"
    return body, msg_signature(token, timestamp, nonce, encrypted)
