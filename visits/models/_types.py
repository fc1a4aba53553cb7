"""Column helpers shared by the model modules."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum, Uuid
from sqlalchemy.orm import mapped_column

from visits.db import new_id


def str_enum(enum_type: type[enum.StrEnum]) -> Enum:
    """Store a StrEnum as its plain string values (no native enum types to migrate)."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def uuid_pk() -> Any:
    return mapped_column(Uuid, primary_key=True, default=new_id)


__all__ = ["str_enum", "uuid_pk"]
