"""Prints HTTP Signature test vectors computed by CyberSource's own Python
SDK (cybersource-rest-client-python), for `shared/src/httpsig.rs`.

    tests/.venv/bin/python tests/cybersource_sdk_vectors.py
"""
from types import SimpleNamespace

from authenticationsdk.http.HTTPSignatureToken import HTTPSignatureToken
from authenticationsdk.payloaddigest.PayLoadDigest import DigestAndPayload

BODY = '{"clientReferenceInformation":{"code":"TC50171_3"},"orderInformation":{"amountDetails":{"totalAmount":"1100","currency":"JPY"}}}'
DATE = "Mon, 23 Nov 2026 09:00:00 GMT"
mconfig = SimpleNamespace(
    merchant_id="testrest",
    merchant_keyid="08c94330-f618-42a3-b09d-e1e43be5efda",
    merchant_secretkey="yBJxy6LjM2TmcPGu+GaJrHtkke25fPpUX+UY6/L/1tE=",
    request_host="apitest.cybersource.com",
    use_metakey=False,
    portfolio_id=None,
)


def token(method, target, body):
    t = HTTPSignatureToken()
    t.http_signature_token(mconfig, DATE, method, target, body)
    return t.get_token()


print("digest", "SHA-256=" + DigestAndPayload().string_digest_generation(BODY).decode())
print("post", token("POST", "/pts/v2/payments", BODY))
print("get", token("GET", "/pts/v2/payments/7000000000000000000001", None))
