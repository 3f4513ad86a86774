"""WeChat message encryption against the published vectors (platform-apis.md §5.5)."""

import base64

import pytest

from reviews.platforms.wechat.crypto import (
    AppIdMismatch,
    CryptoError,
    decrypt_message,
    encrypt_message,
    encrypted_envelope,
    msg_signature,
)
from reviews.platforms.wechat.events import parse_envelope

# Vector A: the official mini-program message-push page (安全模式, JSON).
A_TOKEN, A_KEY, A_APPID = "AAAAA", "A" * 43, "wxba5fad812f8e6fb9"
A_ENCRYPT = (
    "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv"
    "6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNq"
    "J4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
)
A_MSG = (
    '{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,'
    '"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}'
)
A_REPLY_ENCRYPT = "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="

# Vector B: the classic WXBizMsgCrypt sample values (WxJava's WxCryptUtilTest).
B_KEY, B_TOKEN, B_APPID = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "pamtest", "wxb11529c136998cb6"
B_RANDOM = b"aaaabbbbccccdddd"
B_ENCRYPT = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
B_MSG2 = (
    "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName>"
    "<FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime>"
    "<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6"
    "Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA["
    "testCallBackReplyVideo]]></Description></Video></xml>"
)
B_ENCRYPT2 = (
    "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9"
    "+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/"
    "wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJB"
    "U+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkw"
    "Q5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNER"
    "spKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdP"
    "rEeOwofJb"
)

# Vector D: wechatpy tests/test_crypto.py::test_decrypt_message (WeCom receive-id, same algorithm).
D_TOKEN, D_KEY, D_ID = "123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a"
D_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGy"
    "mzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P"
    "4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdsho"
    "QgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxt"
    "huL0="
)


def test_vector_a_message_signature_matches_the_official_example():
    assert (
        msg_signature(A_TOKEN, "1714112445", "415670741", A_ENCRYPT)
        == "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
    )


def test_vector_a_decrypts_to_the_official_json_event():
    assert decrypt_message(A_ENCRYPT, encoding_aes_key=A_KEY, appid=A_APPID) == A_MSG


def test_vector_a_reply_encrypts_exactly_as_the_official_example():
    encrypted = encrypt_message(
        '{"demo_resp":"good luck"}', encoding_aes_key=A_KEY, appid=A_APPID, random16=b"707722b803182950"
    )
    assert encrypted == A_REPLY_ENCRYPT
    assert (
        msg_signature(A_TOKEN, "1713424427", "415670741", encrypted)
        == "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
    )


def test_vector_b_encrypts_the_wxbizmsgcrypt_samples_byte_for_byte():
    assert (
        encrypt_message("我是中文abcd123", encoding_aes_key=B_KEY, appid=B_APPID, random16=B_RANDOM)
        == B_ENCRYPT
    )
    assert encrypt_message(B_MSG2, encoding_aes_key=B_KEY, appid=B_APPID, random16=B_RANDOM) == B_ENCRYPT2


def test_vector_b_decrypts_back_and_signs_as_computed_in_the_reference():
    assert decrypt_message(B_ENCRYPT2, encoding_aes_key=B_KEY, appid=B_APPID) == B_MSG2
    assert (
        msg_signature(B_TOKEN, "1409304348", "xxxxxx", B_ENCRYPT)
        == "82c962d39941aa48552f90ef55aa323dc620cc10"
    )


def test_vector_d_signature_reproduces_and_the_message_decrypts_to_content_test():
    assert (
        msg_signature(D_TOKEN, "1411525903", "461056294", D_ENCRYPT)
        == "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
    )
    plaintext = decrypt_message(D_ENCRYPT, encoding_aes_key=D_KEY, appid=D_ID)
    assert "<Content><![CDATA[test]]></Content>" in plaintext


def test_a_message_for_another_appid_is_refused_even_with_the_right_key():
    with pytest.raises(AppIdMismatch):
        decrypt_message(A_ENCRYPT, encoding_aes_key=A_KEY, appid="wxsomeoneelse00001")


def test_the_wrong_key_is_refused_without_leaking_a_message():
    with pytest.raises(CryptoError):
        decrypt_message(A_ENCRYPT, encoding_aes_key=B_KEY, appid=A_APPID)


@pytest.mark.parametrize(
    "encrypted",
    ["not base64 at all!", "", base64.b64encode(b"short").decode(), base64.b64encode(b"x" * 33).decode()],
)
def test_malformed_ciphertext_is_a_crypto_error(encrypted):
    with pytest.raises(CryptoError):
        decrypt_message(encrypted, encoding_aes_key=A_KEY, appid=A_APPID)


def test_a_length_field_longer_than_the_message_is_refused():
    # A valid encryption whose declared length is patched to exceed what follows.
    from reviews.platforms.wechat import crypto

    key = crypto._aes_key(A_KEY)
    full = b"r" * 16 + (10_000).to_bytes(4, "big") + b"msg" + A_APPID.encode()
    encryptor = crypto._cipher(key).encryptor()
    forged = base64.b64encode(encryptor.update(crypto._pad(full)) + encryptor.finalize()).decode()
    with pytest.raises(CryptoError, match="length"):
        decrypt_message(forged, encoding_aes_key=A_KEY, appid=A_APPID)


@pytest.mark.parametrize("key", ["short", "A" * 44, "!" * 43])
def test_an_invalid_encoding_aes_key_is_refused(key):
    with pytest.raises(CryptoError):
        encrypt_message("hi", encoding_aes_key=key, appid=A_APPID)


def test_ciphertext_pads_to_32_byte_blocks():
    for size in (0, 1, 11, 12, 43, 44):  # 16 + 4 + size + 18-byte appid crosses block edges
        raw = base64.b64decode(encrypt_message("x" * size, encoding_aes_key=A_KEY, appid=A_APPID))
        assert len(raw) % 32 == 0
        assert (
            decrypt_message(base64.b64encode(raw).decode(), encoding_aes_key=A_KEY, appid=A_APPID)
            == "x" * size
        )


def test_an_envelope_round_trips_and_is_signed_over_its_encrypt_field():
    plaintext = "<xml><ToUserName><![CDATA[gh_fb9688c2a4b2]]></ToUserName><CreateTime>1</CreateTime></xml>"
    body, signature = encrypted_envelope(
        plaintext, token="tok", encoding_aes_key=B_KEY, appid=B_APPID, timestamp="1700000000", nonce="42"
    )
    envelope = parse_envelope(body.encode())
    assert envelope.to_user_name == "gh_fb9688c2a4b2"
    assert signature == msg_signature("tok", "1700000000", "42", envelope.encrypt)
    assert decrypt_message(envelope.encrypt, encoding_aes_key=B_KEY, appid=B_APPID) == plaintext
