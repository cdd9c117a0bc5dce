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


# Bounds on an XML body, checked as expat reads it, before anything is built: a call's
# parameters sit one level under <xml> (a value's own elements one more), and even an
# import of the largest list fits in the count with room to spare.
XML_MAX_DEPTH = 8
XML_MAX_ELEMENTS = 100_000
# More digits than any id or count could have; Python itself stops at 4,300.
JSON_MAX_DIGITS = 100


class UnreadableBody(ValueError):
    """A body that cannot be read as its content type says; the message is for the caller."""


class _BoundedExpat:
    """The expat module as xmltodict uses it, with parsers that refuse any DTD and stop at
    XML_MAX_DEPTH levels."""

    ExpatError = expat.ExpatError

    @staticmethod
    def ParserCreate(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 (expat's own name)
        parser = expat.ParserCreate(*args, **kwargs)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        return _BoundedParser(parser)


class _BoundedParser:
    """An expat parser whose start-element handler checks the depth first.

    The depth is the length of xmltodict's own path of open elements, so only the start
    of an element costs a check; the element count is bounded before parsing (_parse_xml).
    """

    def __init__(self, parser: Any) -> None:
        object.__setattr__(self, "_parser", parser)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "StartElementHandler":
            value = _depth_checked(value)
        setattr(self._parser, name, value)


def _depth_checked(handler: Any) -> Any:
    # xmltodict's _DictSAXHandler keeps the open elements in `path` (its streaming mode reads
    # it; 0.14 through 1.0.4, the version requirements.txt pins).
    path = handler.__self__.path

    def start(*args: Any) -> Any:
        if len(path) >= XML_MAX_DEPTH:
            raise UnreadableBody(f"The XML body is nested deeper than {XML_MAX_DEPTH} levels.")
        return handler(*args)

    return start


def _refuse_doctype(*_args: Any) -> None:
    raise UnreadableBody("The XML body declares a DTD (<!DOCTYPE ...>), which is not accepted.")


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > JSON_MAX_DIGITS:
        raise UnreadableBody(f"A number in the JSON body has more than {JSON_MAX_DIGITS} digits.")
    return int(digits)


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key given twice (as a form or XML would be)."""
    params = dict(pairs)
    if len(params) != len(pairs):
        seen: set[str] = set()
        twice = [key for key, _ in pairs if key in seen or seen.add(key)]
        raise IncorrectRequest({key: ["Given twice in the JSON body."] for key in twice})
    return params


def _read_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int)
    except json.JSONDecodeError as error:
        raise UnreadableBody(
            f"The body is not valid JSON (line {error.lineno}, column {error.colno})."
        ) from None


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


Outside = list[tuple[str, str, str]]  # (name, value, where) of token and format outside the body


def read_outside() -> Outside:
    """Return `token` and `format` given outside the body: the query string and the
    Authorization header, which can be checked before the body is read."""
    outside: Outside = []
    if request.query_string:
        _read_query_string(outside)
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        outside.append(("token", credentials.strip(), "the Authorization header"))
    seen: dict[str, Any] = {}
    for name, value, where in outside:
        _merge(seen, name, value, where)
    return outside


def outside_token(outside: Outside) -> str | None:
    return next((value for name, value, _where in outside if name == "token"), None)


def read_params(outside: Outside | None = None) -> dict[str, Any]:
    """Return the request's parameters from its body, its query string and its token header."""
    if outside is None:
        outside = read_outside()
    params = _read_body()
    g.promo_params = params
    for name, value, where in outside:
        _merge(params, name, value, where)
    return params


def _read_query_string(outside: Outside) -> None:
    """Read `token` and `format` from the query string; refuse anything else."""
    extra = {name for name in request.args if name not in QUERY_PARAMS}
    if extra:
        raise IncorrectRequest(
            {name: ["Only token and format may be given in the query string."] for name in extra}
        )
    for name in QUERY_PARAMS:
        for value in request.args.getlist(name):
            outside.append((name, value, "the query string"))


def _merge(params: dict[str, Any], name: str, value: str, where: str) -> None:
    # null (JSON) or an empty element (XML) means "not given": the other place decides.
    if params.get(name) is not None and params[name] != value:
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
        if kind == "xml":
            params = _parse_xml(raw)
        else:
            text = _utf8(raw, kind)
            if kind == "json":
                params = _read_json(text)
            else:
                pairs = parse_qsl(
                    text, keep_blank_values=True, strict_parsing=True, errors="strict"
                )
                params = _group(pairs)
    except UnreadableBody as error:
        raise IncorrectRequest({"body": [str(error)]}) from None
    except RecursionError:
        raise IncorrectRequest(
            {"body": [f"The {kind.upper()} body is nested too deeply."]}
        ) from None
    except UnicodeDecodeError:
        raise IncorrectRequest(
            {"body": ["The form body is not UTF-8 text once decoded."]}
        ) from None
    except ValueError:
        # parse_qsl's strict parsing: a pair without "=".
        raise IncorrectRequest(
            {"body": ["The body is not a valid form (name=value&...)."]}
        ) from None
    if not isinstance(params, dict):
        raise IncorrectRequest({"body": ["The body must be an object of parameters."]})
    return params


def _utf8(raw: bytes, kind: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableBody(
            f"The {kind.upper()} body is not UTF-8 text (byte {error.start + 1} is not)."
        ) from None


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
    # Every element has one "<" that no "/" follows (its start tag), counted at C speed
    # before any parsing; the XML declaration, a comment or a "<" in a CDATA section counts
    # too, which no call's parameters need.
    if raw.count(b"<") - raw.count(b"</") > XML_MAX_ELEMENTS + 1:
        raise UnreadableBody(f"The XML body has more than {XML_MAX_ELEMENTS:,} elements.")
    try:
        document = xmltodict.parse(raw, expat=_BoundedExpat, disable_entities=True)
    except expat.ExpatError as error:
        raise UnreadableBody(
            "The body is not well-formed UTF-8 XML "
            f"(line {error.lineno}, column {error.offset + 1})."
        ) from None
    except ValueError as error:  # xmltodict refusing an entity declaration
        if isinstance(error, UnreadableBody):
            raise
        raise UnreadableBody("The XML body declares entities, which are not accepted.") from None
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
