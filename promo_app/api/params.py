"""Reading a call's parameters: from a JSON, XML or form body, the query string and the
Authorization header; DTDs refused."""

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl
from xml.parsers import expat

import xmltodict
from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import IncorrectRequest, RequestTooLarge, UnsupportedContentType

JSON_TYPES = {"application/json"}
XML_TYPES = {"application/xml", "text/xml"}
FORM_TYPES = {"application/x-www-form-urlencoded"}
QUERY_PARAMS = ("token", "format")


class _NoDoctypeExpat:
    """The expat module as xmltodict uses it, with parsers that refuse any DTD."""

    ExpatError = expat.ExpatError

    @staticmethod
    def ParserCreate(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 (expat's own name)
        parser = expat.ParserCreate(*args, **kwargs)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        return parser


def _refuse_doctype(*_args: Any) -> None:
    raise ValueError("a DTD (<!DOCTYPE ...>) is not accepted")


def body_kind() -> str | None:
    """Name the kind of the request body by its content type: json, xml, form or None."""
    mimetype = request.mimetype
    if mimetype in JSON_TYPES:
        return "json"
    if mimetype in XML_TYPES:
        return "xml"
    if mimetype in FORM_TYPES:
        return "form"
    return None


def limit_body() -> None:
    """Cap this request's body at PROMO_MAX_BODY_BYTES (or the host's smaller cap)."""
    # One byte more than the limit is let through, so that a chunked body (which Werkzeug
    # cuts at the limit without a word) can be seen to be longer: _read_body refuses it.
    limit = current_app.config["PROMO_MAX_BODY_BYTES"] + 1
    host_limit = request.max_content_length
    request.max_content_length = limit if host_limit is None else min(limit, host_limit)


def read_params() -> dict[str, Any]:
    """Return the request's parameters from its body, its query string and its token header."""
    params = _read_body()
    g.promo_params = params
    if request.query_string:
        _read_query_string(params)
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        _merge(params, "token", credentials.strip(), "the Authorization header")
    return params


def _read_query_string(params: dict[str, Any]) -> None:
    """Merge `token` and `format` from the query string into `params`; refuse anything else."""
    extra = {name for name in request.args if name not in QUERY_PARAMS}
    if extra:
        raise IncorrectRequest(
            {name: ["Only token and format may be given in the query string."] for name in extra}
        )
    for name in QUERY_PARAMS:
        for value in request.args.getlist(name):
            _merge(params, name, value, "the query string")


def _merge(params: dict[str, Any], name: str, value: str, where: str) -> None:
    if name in params and params[name] != value:
        raise IncorrectRequest({name: [f"Given twice with different values (in {where} too)."]})
    params[name] = value


def _read_body() -> dict[str, Any]:
    kind = body_kind()
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise RequestTooLarge() from None
    if len(raw) > current_app.config["PROMO_MAX_BODY_BYTES"]:
        raise RequestTooLarge()
    if not raw.strip():
        return {}
    if kind is None:
        raise UnsupportedContentType(
            {"Content-Type": [f"Send {', '.join(sorted(JSON_TYPES | XML_TYPES | FORM_TYPES))}."]}
        )
    try:
        text = raw.decode("utf-8") if kind != "xml" else None
        if kind == "json":
            params = json.loads(text)
        elif kind == "form":
            params = _group(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        else:
            params = _parse_xml(raw)
    except IncorrectRequest:
        raise
    except (ValueError, RecursionError, expat.ExpatError) as error:
        raise IncorrectRequest(
            {"body": [f"Cannot read the {kind.upper()} body: {error}"]}
        ) from None
    if not isinstance(params, dict):
        raise IncorrectRequest({"body": ["The body must be an object of parameters."]})
    return params


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn form pairs into parameters; a repeated name becomes a list."""
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name in params:
            previous = params[name]
            params[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            params[name] = value
    return params


def _parse_xml(raw: bytes) -> dict[str, Any]:
    document = xmltodict.parse(raw, expat=_NoDoctypeExpat, disable_entities=True)
    if list(document) != ["xml"]:
        raise IncorrectRequest({"body": ["The XML root element must be <xml>."]})
    params = document["xml"]
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise IncorrectRequest({"body": ["<xml> must hold one element per parameter."]})
    return dict(params)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages into field name -> list of messages."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, texts in flatten_errors(value, name).items():
                flat.setdefault(field, []).extend(texts)
        return flat
    if isinstance(messages, list | tuple):
        texts: list[str] = []
        flat = {}
        for item in messages:
            if isinstance(item, Mapping):
                for field, more in flatten_errors(item, prefix).items():
                    flat.setdefault(field, []).extend(more)
            else:
                texts.append(str(item))
        if texts:
            flat.setdefault(prefix or "_request", []).extend(texts)
        return flat
    return {prefix or "_request": [str(messages)]}
