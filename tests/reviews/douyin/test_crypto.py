"""Douyin's push crypto against the reference's test vectors (douyin.md §1, from SKIT's tests)."""

import pytest

from reviews.platforms.douyin.crypto import (
    AppIdMismatch,
    CryptoError,
    decrypt_message,
    encrypt_message,
    msg_signature,
    signature_matches,
)

TOKEN = "QDG6eK"
KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
APPID = "tt5823bf96d3bd56c7"
NONCE, TIMESTAMP = "1372623149", "1409659813"
ENCRYPT = (
    "OheJ/nrK5Liim/H6TjL6ufUBwoxRP4sy2e0mS7IO47WESBIHgIXdGLwhs8iDCgMsPe0I78q2jUNtdO7w6+Vg+gtmEm5mbcljWv18Fs5h"
    "w91+hwID9uOGNC5ICeLGMMXW0uaGtqn8XgwXxtROAK220M5oRYK9MvmIoU/Q7Tvx1xnP4Jfunww+2mYqgD3YIYvTFVReX+3BeRuBh7zOK7t"
    "RbdqXaPbK/Cko0Vnt82rikDmItgXLUtJC4wxJohhXKZGb/12oFq6L/Uy+CtLqVLZMIH4uxlb5cO9exYfArVocZTc="
)
SIGNATURE = "e51e71c9087fc57ae1cf8eb25c0d1ba837db5b7c"
MESSAGE = (
    '{"FromUserName":"ByteDanceMicroApp","CreateTime":"2019-01-14 12:45:10","Event":"PUSH",'
    '"MsgType":"Ticket","Ticket":"8c0da4968b0d1e28acbc1d738a56607d"}'
)


def test_the_reference_vector_signature_is_reproduced():
    assert msg_signature(TOKEN, TIMESTAMP, NONCE, ENCRYPT) == SIGNATURE
    assert signature_matches(SIGNATURE.upper(), TOKEN, TIMESTAMP, NONCE, ENCRYPT)  # case does not matter


def test_a_signature_with_another_token_or_timestamp_does_not_match():
    assert not signature_matches(SIGNATURE, "other", TIMESTAMP, NONCE, ENCRYPT)
    assert not signature_matches(SIGNATURE, TOKEN, "1409659814", NONCE, ENCRYPT)


def test_the_reference_vector_decrypts_to_the_ticket_with_a_32_byte_prefix():
    assert decrypt_message(ENCRYPT, encoding_aes_key=KEY, appid=APPID) == MESSAGE


def test_a_message_for_another_component_app_is_refused():
    with pytest.raises(AppIdMismatch):
        decrypt_message(ENCRYPT, encoding_aes_key=KEY, appid="tt0000000000000000")


def test_a_wrong_key_or_broken_ciphertext_is_refused():
    other_key = "A" * 43
    with pytest.raises(CryptoError):
        decrypt_message(ENCRYPT, encoding_aes_key=other_key, appid=APPID)
    with pytest.raises(CryptoError):
        decrypt_message("not base64!", encoding_aes_key=KEY, appid=APPID)
    with pytest.raises(CryptoError):
        decrypt_message(ENCRYPT[:-8], encoding_aes_key=KEY, appid=APPID)


def test_what_the_simulator_encrypts_decrypts_with_chinese_intact():
    text = '{"Event":"PACKAGE_AUDIT","reason":"类目不符"}'
    encrypted = encrypt_message(text, encoding_aes_key=KEY, appid=APPID)
    assert decrypt_message(encrypted, encoding_aes_key=KEY, appid=APPID) == text
