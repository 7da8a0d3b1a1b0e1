"""The authorizer's settings (``functions.handlers.authorizer``)."""

from typing import Annotated

from pydantic import Field

from functions.settings import FunctionSettings


class AuthorizerSettings(FunctionSettings):
    keys_table: Annotated[str, Field(min_length=3)]
