"""Pays against the CyberSource sandbox with CyberSource's own published
Python SDK (cybersource-rest-client-python), the way a merchant follows
CyberSource's samples: `PaymentsApi.create_payment` with HTTP Signature
authentication, then `CaptureApi.capture_payment` and
`RefundApi.refund_payment`, and `ReversalApi.auth_reversal` of a second
authorization. Run by tests/cybersource-sdk.test.mjs, which
reads the JSON this prints.

Environment: SANDBOX_HOST (host:port of the Worker), SANDBOX_BASE (the
sandbox's base URL), CS_MERCHANT_ID, CS_KEY_ID, CS_SECRET, CS_REFERENCE,
and CS_STEP: `payment` (authorize with JPO installments, capture part,
refund part), `reversal` (authorize, then reverse the authorization) or
`bad_secret` (the same authorization signed with another
secret).
"""
import json
import os
import sys

from CyberSource import (
    AuthReversalRequest,
    CaptureApi,
    CapturePaymentRequest,
    CreatePaymentRequest,
    PaymentsApi,
    Ptsv2paymentsClientReferenceInformation,
    Ptsv2paymentsidcapturesOrderInformation,
    Ptsv2paymentsidcapturesOrderInformationAmountDetails,
    Ptsv2paymentsidrefundsOrderInformation,
    Ptsv2paymentsOrderInformation,
    Ptsv2paymentsOrderInformationAmountDetails,
    Ptsv2paymentsPaymentInformation,
    Ptsv2paymentsPaymentInformationCard,
    Ptsv2paymentsProcessingInformation,
    Ptsv2paymentsProcessingInformationJapanPaymentOptions,
    Ptsv2paymentsidreversalsClientReferenceInformation,
    Ptsv2paymentsidreversalsReversalInformation,
    Ptsv2paymentsidreversalsReversalInformationAmountDetails,
    RefundApi,
    RefundPaymentRequest,
    ReversalApi,
)
from CyberSource.rest import ApiException


def del_none(d):
    """CyberSource's samples serialize request models this way."""
    for key, value in list(d.items()):
        if value is None:
            del d[key]
        elif isinstance(value, dict):
            del_none(value)
    return d


def config(secret):
    return {
        "authentication_type": "http_signature",
        "merchantid": os.environ["CS_MERCHANT_ID"],
        "merchant_keyid": os.environ["CS_KEY_ID"],
        "merchant_secretkey": secret,
        # `run_environment` is the host the SDK signs (`Host`); the SDK's
        # `IntermediateHost` sends the requests to the sandbox's base URL,
        # as through a gateway in front of CyberSource.
        "run_environment": os.environ["SANDBOX_HOST"],
        "IntermediateHost": os.environ["SANDBOX_BASE"],
    }


def body(model):
    return json.dumps(del_none(model.to_dict()))


def authorize(cfg, reference):
    request = CreatePaymentRequest(
        client_reference_information=Ptsv2paymentsClientReferenceInformation(code=reference),
        processing_information=Ptsv2paymentsProcessingInformation(
            capture=False,
            japan_payment_options=Ptsv2paymentsProcessingInformationJapanPaymentOptions(payment_method="61", installments="3"),
        ),
        payment_information=Ptsv2paymentsPaymentInformation(
            card=Ptsv2paymentsPaymentInformationCard(
                number="4111111111111111", expiration_month="12", expiration_year="2031", security_code="123"
            )
        ),
        order_information=Ptsv2paymentsOrderInformation(
            amount_details=Ptsv2paymentsOrderInformationAmountDetails(total_amount="1100", currency="JPY")
        ),
    )
    data, status, _ = PaymentsApi(cfg).create_payment(body(request))
    return data, status


def main():
    step = os.environ.get("CS_STEP", "payment")
    reference = os.environ["CS_REFERENCE"]
    out = {}
    try:
        if step == "reversal":
            cfg = config(os.environ["CS_SECRET"])
            data, status = authorize(cfg, reference)
            out["authorization"] = {"http": status, "status": data.status, "id": data.id}
            reversal = AuthReversalRequest(
                client_reference_information=Ptsv2paymentsidreversalsClientReferenceInformation(code=reference + "-reversal"),
                reversal_information=Ptsv2paymentsidreversalsReversalInformation(
                    amount_details=Ptsv2paymentsidreversalsReversalInformationAmountDetails(total_amount="1100", currency="JPY"),
                    reason="cancelled by the shop",
                ),
            )
            data2, status2, _ = ReversalApi(cfg).auth_reversal(data.id, body(reversal))
            out["reversal"] = {
                "http": status2,
                "status": data2.status,
                "id": data2.id,
                "reversed": data2.reversal_amount_details.reversed_amount if data2.reversal_amount_details else None,
            }
        elif step == "bad_secret":
            authorize(config("c29tZW9uZS1lbHNlcy1zZWNyZXQta2V5LTMyLWJ5dGVzIQ=="), reference)
            out["authorization"] = {"http": 201}
        else:
            cfg = config(os.environ["CS_SECRET"])
            data, status = authorize(cfg, reference)
            out["authorization"] = {"http": status, "status": data.status, "id": data.id}
            capture = CapturePaymentRequest(
                client_reference_information=Ptsv2paymentsClientReferenceInformation(code=reference + "-capture"),
                order_information=Ptsv2paymentsidcapturesOrderInformation(
                    amount_details=Ptsv2paymentsidcapturesOrderInformationAmountDetails(total_amount="800", currency="JPY")
                ),
            )
            data2, status2, _ = CaptureApi(cfg).capture_payment(body(capture), data.id)
            out["capture"] = {"http": status2, "status": data2.status, "id": data2.id}
            refund = RefundPaymentRequest(
                client_reference_information=Ptsv2paymentsClientReferenceInformation(code=reference + "-refund"),
                order_information=Ptsv2paymentsidrefundsOrderInformation(
                    amount_details=Ptsv2paymentsidcapturesOrderInformationAmountDetails(total_amount="300", currency="JPY")
                ),
            )
            data3, status3, _ = RefundApi(cfg).refund_payment(body(refund), data.id)
            out["refund"] = {"http": status3, "status": data3.status, "id": data3.id}
    except ApiException as e:
        out["error"] = {"http": e.status, "body": e.body if isinstance(e.body, str) else str(e.body)}
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
