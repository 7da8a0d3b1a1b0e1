"""Runtime settings: a pydantic model per function, validated once at cold start.

Each function's models are in a module of their own, named as its handler's module
(``functions.settings.api`` for ``functions.handlers.api``...), so that a cold start defines
and builds its own models only; the site's settings, which every function that renders for
readers shares, are in ``functions.settings.site``. Only the function modules
(``functions/handlers/``) call ``from_env``, on first use; everything else receives plain values.
"""

from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict


class FunctionSettings(BaseModel):
    """Base of every function's settings: frozen, built from the environment."""

    # Built on first use (defer_build): a function validates one or two models, never the rest.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """Build from environment variables named like the fields, upper-cased."""
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        return cls.model_validate(values)
