#!/usr/bin/env python3
"""Prints an HTML page that sends the shopper to Kessai Link's hosted
payment page with a signed purchase request (PRODUCT §3.1).

    KESSAI_BASE=http://127.0.0.1:8787 SHOP_BASE=http://127.0.0.1:4000 python3 examples/purchase_form.py > pay.html
"""
import hashlib
import hmac
import html
import os
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

HASH_KEY = b"kessai-sandbox-hash-key"  # the sandbox merchant's key
FIELDS = ["merchant_id", "service_id", "cust_code", "order_id", "item_id", "item_name", "amount", "tax",
          "pay_method", "pay_type", "sales_mode", "terminal_type", "success_url", "cancel_url", "error_url",
          "pagecon_url", "free1", "free2", "free3", "request_date", "limit_second"]


def hashcode(values: dict) -> str:
    """name=value pairs of the fields present, in FIELDS order, values RFC 3986 percent-encoded, joined by &."""
    canonical = "&".join(f"{name}={urllib.parse.quote(values[name], safe='-._~')}" for name in FIELDS if name in values)
    return hmac.new(HASH_KEY, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


kessai = os.environ.get("KESSAI_BASE", "http://127.0.0.1:8787")
shop = os.environ.get("SHOP_BASE", "http://127.0.0.1:4000")
jst = timezone(timedelta(hours=9))
values = {
    "merchant_id": "99999",
    "service_id": "001",
    "order_id": os.environ.get("ORDER_ID", f"order-{int(time.time() * 1000)}"),
    "item_name": "緑茶 200g",
    "amount": "1100",  # tax included
    "tax": "100",
    "pay_method": "netcash",
    "success_url": f"{shop}/success",
    "cancel_url": f"{shop}/cancel",
    "error_url": f"{shop}/error",
    "pagecon_url": f"{shop}/notify",
    "request_date": datetime.now(jst).strftime("%Y%m%d%H%M%S"),
}
values["hashcode"] = hashcode(values)

inputs = "\n".join(f'  <input type="hidden" name="{n}" value="{html.escape(v)}">' for n, v in values.items())
print(f"""<!doctype html><meta charset="utf-8"><title>To payment</title>
<form id="pay" method="post" action="{kessai}/link/purchase">
{inputs}
  <button>Pay</button>
</form>
<script>document.getElementById('pay').submit()</script>""")
