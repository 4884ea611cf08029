"""Job filter rules (``/2/filters``, Ganeti 2.13+): not implemented here.

Ganeti's job scheduler can accept, reject, pause or rate-limit jobs by
filter rules managed through these paths and ``gnt-filter``. This cluster's
job queue has no filter rules, so every method answers 501 saying so,
instead of a 404 that would suggest a wrong path.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ganeti.rapi import OPT_WRITE, apierrors
from ganeti.rapi.baserlib import BULK, Resource

NOT_IMPLEMENTED = ("Job filter rules (/2/filters, Ganeti 2.13+) are not implemented: this"
                   " cluster's job queue has no filter rules, so listing, adding, replacing"
                   " or removing them is not supported")


def _refuse() -> NoReturn:
    raise apierrors.NotImplementedYet(NOT_IMPLEMENTED)


class _FilterResource(Resource):
    """The methods Ganeti offers on filters, each answering 501."""

    PUT_ACCESS = (OPT_WRITE,)
    POST_ACCESS = (OPT_WRITE,)
    DELETE_ACCESS = (OPT_WRITE,)
    BODY_DOC = {"PUT": "Not implemented (501)", "POST": "Not implemented (501)"}

    async def handle_get(self) -> Any:
        _refuse()


class Filters(_FilterResource):
    DOC = "Job filter rules: not implemented (every method answers 501)."
    GET_QUERY = (BULK,)
    POST_QUERY = ()

    async def handle_post(self) -> Any:
        _refuse()


class Filter(_FilterResource):
    DOC = "One job filter rule by UUID: not implemented (every method answers 501)."
    PUT_QUERY = ()
    DELETE_QUERY = ()

    async def handle_put(self) -> Any:
        _refuse()

    async def handle_delete(self) -> Any:
        _refuse()
