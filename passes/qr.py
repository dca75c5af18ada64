"""The pass as a QR code: the token in alphanumeric mode, level M, version 8 at most."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathImage

MAX_VERSION = 8


class TokenTooLong(ValueError):
    """The token does not fit the QR version the scanners are tested with."""


def _code(token: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    # The token alphabet (base45 and "TL1:") is QR's alphanumeric set: about 5.5 bits a char.
    code.add_data(qrcode.util.QRData(token, mode=qrcode.util.MODE_ALPHA_NUM))
    code.make(fit=True)
    if code.version > MAX_VERSION:
        raise TokenTooLong(f"QR version {code.version} > {MAX_VERSION}")
    return code


def version(token: str) -> int:
    return int(_code(token).version)


def png(token: str) -> bytes:
    out = io.BytesIO()
    _code(token).make_image().save(out, format="PNG")
    return out.getvalue()


def svg(token: str) -> bytes:
    out = io.BytesIO()
    _code(token).make_image(image_factory=SvgPathImage).save(out)
    return out.getvalue()
