"""Writing the answer: one envelope, ``{"data": ..., "error": <int>, "error_text": <str>}``,
in JSON or in XML (root ``<xml>``). In XML a list inside ``data`` is repeated elements of its
key; a list that is ``data`` itself is one ``<data>`` element per item, repeated at the root
as the platform writes it (an empty list is one empty ``<data/>``); ``errors`` is a list of
``<field name="db_id">message</field>`` elements, so any field name fits.
"""

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from xml.sax.saxutils import escape

import xmltodict
from flask import Response, g, request, stream_with_context

from .params import XML_TYPES, body_kind

SUCCESS_TEXT = "Successful operation"
FORMATS = ("json", "xml")


_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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
            root[key] = [xml_value(item) for item in value] if value else None
        else:
            root[key] = xml_value(value)
    text = xmltodict.unparse({"xml": root}, full_document=full_document)
    if body.get("data") == []:
        # An empty list is one empty <data/>; null data stays <data></data>, as the
        # platform writes it. `data` comes first, so its element is the first one.
        text = text.replace("<xml><data></data>", "<xml><data/>", 1)
    return text


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
    yield head
    written = False
    for item in items:
        yield xml_item(item)
        written = True
    yield tail if written else "<data/>" + tail


def xml_item(item: Mapping[str, Any]) -> str:
    """Write one root <data> item exactly as xmltodict does inside `to_xml`, but fast for a
    flat item.

    A streamed export writes a million of these; xmltodict's SAX machinery costs about four
    times the time of this for items whose values are all scalars. Anything else goes the
    general way.
    """
    parts = ["<data>"]
    for key, value in item.items():
        if isinstance(value, Mapping | list | tuple) or not _XML_NAME.match(str(key)):
            return xmltodict.unparse({"data": xml_value(item)}, full_document=False)
        text = xml_value(value)
        parts.append(f"<{key}>{'' if text is None else escape(text)}</{key}>")
    parts.append("</data>")
    return "".join(parts)
