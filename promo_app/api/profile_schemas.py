"""Parameters of the profile verbs (`profiles/import`, `import_batch`, `get`, `delete`).

They name a profile as attach does, without a program. `data` holds what a profile is
made of: `email`, `phone` and the database's custom fields by name; the domain checks its
values (profiles.values), so that the Python API refuses what the API refuses.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from ..profiles import MATCHING_MODES
from .schemas import ProfileMatchSchema, db_id_param

IDENTIFIERS = ("profile_id", "email", "phone", "field_name", "field_value")


def _data_param(**kwargs: Any) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=255)),
        values=fields.Raw(allow_none=True),
        **kwargs,
    )


def _fold_form_data(data: Any) -> Any:
    """A form cannot nest: it sends `data.email=…&data.card=…`; fold those into `data`."""
    if not isinstance(data, dict) or not any(str(name).startswith("data.") for name in data):
        return data
    folded = {name: value for name, value in data.items() if not str(name).startswith("data.")}
    nested = dict(folded.get("data") or {}) if isinstance(folded.get("data"), dict) else {}
    for name, value in data.items():
        if str(name).startswith("data."):
            nested[name[len("data.") :]] = value
    folded["data"] = nested
    return folded


class ProfileSchema(ProfileMatchSchema):
    """A verb about one profile of a database: `db_id` and the matching identifiers."""

    class Meta(ProfileMatchSchema.Meta):
        exclude = ("loyalty_id",)


class ProfileGetSchema(ProfileSchema):
    pass


class ProfileDeleteSchema(ProfileSchema):
    pass


class ProfileImportSchema(ProfileSchema):
    """The profile may also be named by its data: its email, phone or custom field."""

    identifier_required = False  # the OpenAPI document leaves out attach's matching rules

    data = _data_param(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The profile's fields: email, phone and the database's custom "
            'fields by name. A field given as null or "" is cleared; one not given is left '
            "as it is. In a form: data.email=…, data.card=…"
        },
    )

    @pre_load
    def fold_form_data(self, data: Any, **kwargs: Any) -> Any:
        return _fold_form_data(data)

    @validates_schema
    def check_matching(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("field_value") is not None and data.get("field_name") is None:
            raise ValidationError("field_name and field_value go together.", "field_name")
        if data.get("matching") == "custom" and data.get("field_name") is None:
            raise ValidationError("Required when matching is 'custom'.", "field_name")

    @post_load
    def make_profile_key(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        given = {name: data[name] for name in IDENTIFIERS if data.get(name) is not None}
        return {**data, "given": given}


class ProfileBatchSchema(Schema):
    """`profiles/import_batch`: one matching mode for the batch, one data object an item."""

    class Meta:
        unknown = RAISE

    token = fields.String(required=True, metadata={"description": "API token"})
    format = fields.String(
        validate=validate.OneOf(["json", "xml"]),
        allow_none=True,
        metadata={"description": "Response data format. By default json"},
    )
    db_id = db_id_param(required=True, metadata={"description": "Database ID"})
    matching = fields.String(
        validate=validate.OneOf(MATCHING_MODES),
        allow_none=True,
        metadata={
            "description": "Profiles matching mode for every item. By default each item is "
            "found by its email, else its phone; profile_id takes each item's profile_id; "
            "custom takes each item's value of field_name"
        },
    )
    field_name = fields.String(
        validate=validate.Length(min=1, max=255),
        allow_none=True,
        metadata={"description": "Custom database field for matching (with matching custom)"},
    )
    data = fields.List(
        _data_param(),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": "The profiles: one object of fields each (email, phone, custom "
            "fields, and profile_id when matching by it), at most PROMO_PROFILES_BATCH_MAX "
            "(1,000 unless configured). In XML, one <data> element per profile."
        },
    )

    @pre_load
    def one_item_is_a_list(self, data: Any, **kwargs: Any) -> Any:
        # A single <data> element (XML) reads as an object.
        data = _fold_form_data(data)
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            return {**data, "data": [data["data"]]}
        return data

    @validates_schema
    def check_matching(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("matching") == "custom" and data.get("field_name") is None:
            raise ValidationError("Required when matching is 'custom'.", "field_name")
