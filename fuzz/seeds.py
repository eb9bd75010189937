#!/usr/bin/env python3
"""Writes the committed seed corpora (fuzz/corpus/<target>/seed-*) from the
Worker's provider fixtures and the examples of the unit and Node tests.
Run from anywhere: python3 fuzz/seeds.py. Corpus growth (files the fuzzer
adds) is not committed (fuzz/.gitignore)."""
import json, pathlib, struct

here = pathlib.Path(__file__).resolve().parent
fixtures = here.parent / "edge-worker" / "fixtures"
corpus = here / "corpus"


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / f"seed-{name}").write_bytes(data)


# Provider answers: 2 bytes of HTTP status, then the body.
status_of = {
    "declined": 402, "insufficient": 402, "suspended": 403, "limit_exceeded": 200,
    "invalid_request": 400, "jpo_refused": 400, "exceeds": 400, "deadline": 422,
    "too_long": 422, "already_shipped": 409, "unauthorized": 401, "server_error": 500,
    "pending": 201, "voided": 201,
}
for f in sorted(fixtures.glob("*/*.json")):
    if f.stem.endswith("_request"):
        continue
    body = f.read_bytes().strip()
    status = next((s for k, s in status_of.items() if k in f.stem), 200)
    for s in sorted({status, 200, 201}):
        put("provider_answers", f"{f.parent.name}-{f.stem}-{s}", struct.pack(">H", s) + body)
put("provider_answers", "timeout", b"\x00\x00timeout after 15000 ms")
put("provider_answers", "404-empty", b"\x01\x94")

# Notifications: the body.
put("notifications", "np-approved", (fixtures / "np" / "notification_approved.json").read_bytes().strip())
put("notifications", "np-declined",
    json.dumps({"type": "transaction.screening_decided", "data": {"np_transaction_id": "np_0002", "shop_transaction_id": "pay_x-1", "result": "declined"}}))

# The purchase form, as a merchant's page posts it (signed or not: the
# target re-signs).
form = [
    ("merchant_id", "99999"), ("service_id", "001"), ("cust_code", "cust-1"),
    ("order_id", "ord-20261123-0001"), ("item_id", "tea-200"), ("item_name", "%E7%B7%91%E8%8C%B6+200g"),
    ("amount", "1100"), ("tax", "100"), ("pay_method", "netcash%2Ccard"), ("pay_type", "one_time"),
    ("sales_mode", "auto"), ("terminal_type", ""), ("success_url", "http%3A%2F%2F127.0.0.1%3A4000%2Fsuccess"),
    ("cancel_url", "http%3A%2F%2F127.0.0.1%3A4000%2Fcancel"), ("error_url", "http%3A%2F%2F127.0.0.1%3A4000%2Ferror"),
    ("pagecon_url", "http%3A%2F%2F127.0.0.1%3A4000%2Fnotify"), ("free1", "a%26b%3Dc"),
    ("request_date", "20261123090000"), ("limit_second", "600"),
    ("hashcode", "0" * 64),
]
put("purchase_form", "sandbox", "&".join(f"{n}={v}" for n, v in form))
put("purchase_form", "recurring", "&".join(f"{n}={v}" for n, v in form).replace("one_time", "recurring_fixed").replace("auto", "specified"))

# The return form and au's signed result form.
put("return_form", "au-result-ok", (fixtures / "au" / "result_ok.form").read_bytes().strip())
put("return_form", "return", "merchant_id=99999&service_id=001&order_id=ord-1&res_result=OK&res_pay_method=card"
    "&res_tracking_id=pay_x&res_payment_date=20261123090100&res_err_code=&res_date=20261123090100&hashcode=" + "0" * 64)

# Merchant API bodies.
for i, b in enumerate(['{"amount": 500}', "{}", '{"amount": null}', '{"amount": "500"}', '{"amount": 500.0}', " ", '{"amount": 9999999, "reason": "x"}']):
    put("merchant_api_body", f"body-{i}", b)

# The hosted page's JSON bodies.
for name, b in {
    "netcash": {"netcash_id": "ABCD1234EFGH5678"},
    "prepaid": {"card_number": "1234567812345678"},
    "card": {"number": "4111 1111 1111 1111", "exp_month": "12", "exp_year": "2030", "cvc": "123"},
    "card-jpo": {"number": "4111111111111111", "exp_month": 12, "exp_year": 2030, "cvc": "1234", "option": {"kind": "installment", "count": 3}},
    "card-revolving": {"number": "5555555555554444", "exp_month": "1", "exp_year": "30", "cvc": "123", "option": {"kind": "revolving"}},
    "np": {"name": "山田 太郎", "kana": "ヤマダ タロウ", "postal_code": "150-0001", "address": "東京都渋谷区神宮前1-1-1", "phone": "03-1234-5678", "email": "taro@example.jp"},
}.items():
    put("page_json", name, json.dumps(b, ensure_ascii=False))

# CyberSource's signature header and date.
put("cybersource_signature", "header",
    'keyid="4f8a2c1e-7b3d-4e5f-9a6b-0c1d2e3f4a5b", algorithm="HmacSHA256", headers="host date request-target digest v-c-merchant-id", signature="abc="')
put("cybersource_signature", "date", "Mon, 23 Nov 2026 00:00:00 GMT")

# Standard Webhooks.
put("webhook_verify", "secret", "whsec_a2Vzc2FpLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDE=")
put("webhook_verify", "signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,bm9wZQ==")
