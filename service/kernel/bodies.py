"""Reading request bodies so that no body a client sends can turn into a 500.

msgspec refuses JSON nested past the interpreter's recursion limit with a `RecursionError`
and a string that is not UTF-8 with a `UnicodeDecodeError`: both are the client's mistake,
answered as 400 `bad-request` like any other malformed JSON.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from service.kernel.errors import UnreadableBody
from service.kernel.i18n import N_


class ServiceRequest(Request[Any, Any, Any]):
    """The app's request class (`Litestar(request_class=…)`)."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise UnreadableBody(N_("The JSON body is nested too deeply.")) from None
        except UnicodeDecodeError:
            raise UnreadableBody(N_("The body is not valid UTF-8 text.")) from None
