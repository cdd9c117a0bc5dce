"""The API's transport: reading parameters from JSON, XML or a form, and writing the envelope.

Answers are one envelope, ``{"data": ..., "error": <int>, "error_text": <str>}``, in JSON
or in XML (root ``<xml>``). In XML a list inside ``data`` is repeated elements of its
key; a list that is ``data`` itself is repeated ``<item>`` elements; ``errors`` is a list
of ``<field name="db_id">message</field>`` elements, so any field name fits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl
from xml.parsers import expat
from xml.sax.saxutils import escape

import xmltodict
from flask import Response, current_app, g, request, stream_with_context
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import IncorrectRequest, RequestTooLarge, UnsupportedContentType

SUCCESS_TEXT = "Successful operation"
FORMATS = ("json", "xml")
JSON_TYPES = {"application/json"}
XML_TYPES = {"application/xml", "text/xml"}
FORM_TYPES = {"application/x-www-form-urlencoded"}
QUERY_PARAMS = ("token", "format")

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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


def response_format() -> str:
    """Choose the answer's format: `format`, then Accept, then the body's kind, then JSON."""
    params = g.get("promo_params") or {}
    wanted = params.get("format")
    if wanted in FORMATS:
        return wanted
    if request.query_string:
        for wanted in request.args.getlist("format"):
            if wanted in FORMATS:
                return wanted
    if request.headers.get("Accept"):
        # An Accept header that prefers one of the two decides; */* prefers neither.
        accept = request.accept_mimetypes
        xml_quality = max(accept.quality(mimetype) for mimetype in XML_TYPES)
        json_quality = accept.quality("application/json")
        if xml_quality != json_quality:
            return "xml" if xml_quality > json_quality else "json"
    return "xml" if body_kind() == "xml" else "json"


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


def envelope(
    data: Any,
    error: int = 0,
    error_text: str = SUCCESS_TEXT,
    **extra: Any,
) -> Response:
    """Answer with the envelope in the negotiated format; HTTP status equals `error`."""
    body = {"data": data, "error": error, "error_text": error_text, **extra}
    status = error or 200
    if response_format() == "xml":
        return Response(to_xml(body), status=status, mimetype="application/xml")
    return Response(to_json(body), status=status, mimetype="application/json")


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def to_xml(body: Mapping[str, Any], full_document: bool = True) -> str:
    """Write an envelope as XML under the root <xml>."""
    root: dict[str, Any] = {}
    for key, value in body.items():
        if key == "errors" and isinstance(value, Mapping):
            root[key] = {
                "field": [
                    {"@name": xml_text(field), "#text": xml_text(message)}
                    for field, messages in value.items()
                    for message in messages
                ]
            }
        elif key == "data" and isinstance(value, list):
            root[key] = {"item": [xml_value(item) for item in value]} if value else None
        else:
            root[key] = xml_value(value)
    return xmltodict.unparse({"xml": root}, full_document=full_document)


def xml_value(value: Any) -> Any:
    """Prepare a value for xmltodict: text safe for XML, booleans as true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return {str(key): xml_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [xml_value(item) for item in value]
    return xml_text(str(value))


def xml_text(text: str) -> str:
    """Replace characters that XML 1.0 cannot carry with U+FFFD."""
    return _XML_INVALID.sub("\ufffd", text)


def stream_envelope(items: Iterable[Mapping[str, Any]]) -> Response:
    """Answer a successful envelope whose `data` is a list, streamed item by item.

    The bytes are exactly those `envelope` would send for the same list, in either
    format, but only one item at a time is held as text. Check everything that can fail
    before calling this: once the first byte is out, the status is 200.
    """
    if response_format() == "xml":
        chunks = _xml_chunks(items)
        mimetype = "application/xml"
    else:
        chunks = _json_chunks(items)
        mimetype = "application/json"
    return Response(stream_with_context(chunks), status=200, mimetype=mimetype)


def _json_chunks(items: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    head, _, tail = to_json({"data": [], "error": 0, "error_text": SUCCESS_TEXT}).partition("[]")
    yield head + "["
    separator = ""
    for item in items:
        yield separator + to_json(item)
        separator = ","
    yield "]" + tail


def _xml_chunks(items: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    empty = "<data></data>"
    head, _, tail = to_xml({"data": None, "error": 0, "error_text": SUCCESS_TEXT}).partition(empty)
    yield head + "<data>"
    for item in items:
        yield xml_item(item)
    yield "</data>" + tail


def xml_item(item: Mapping[str, Any]) -> str:
    """Write one <item> exactly as xmltodict does inside `to_xml`, but fast for a flat item.

    A streamed export writes a million of these; xmltodict's SAX machinery costs about four
    times the time of this for items whose values are all scalars. Anything else goes the
    general way.
    """
    parts = ["<item>"]
    for key, value in item.items():
        if isinstance(value, Mapping | list | tuple) or not _XML_NAME.match(str(key)):
            return xmltodict.unparse({"item": xml_value(item)}, full_document=False)
        text = xml_value(value)
        parts.append(f"<{key}>{'' if text is None else escape(text)}</{key}>")
    parts.append("</item>")
    return "".join(parts)
