"""The message crypto WeChat's third-party platform defined and Douyin's reuses (platform-apis.md
§5.4, douyin.md §1): a SHA-1 signature over the sorted [token, timestamp, nonce, Encrypt], and
AES-256-CBC with the key base64-decoded from the 43-character EncodingAESKey and its first 16 bytes
as the IV. What differs (the random prefix, the envelope, the padding leniency) stays in each
platform's own crypto module.
"""

import base64
import binascii
import hashlib
import hmac

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class CryptoError(Exception):
    """The message cannot be read: bad envelope, base64, padding, length or key."""


class AppIdMismatch(CryptoError):
    """The message decrypted, but was encrypted for another appid (not ours)."""


def msg_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324 - the protocol mandates SHA-1


def signature_matches(expected: str, token: str, timestamp: str, nonce: str, encrypted: str) -> bool:
    """Constant time, so a forger learns nothing from response times; case does not matter."""
    return hmac.compare_digest(msg_signature(token, timestamp, nonce, encrypted), (expected or "").lower())


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode((encoding_aes_key or "") + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("The EncodingAESKey is not valid base64.") from None
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise CryptoError("The EncodingAESKey must be 43 characters encoding 32 bytes.")
    return key


def cipher(key: bytes) -> Cipher:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))
