"""Who makes a request and in which organization context."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import PermissionDeniedError
from .permissions import Actor, OrgScope
from .users import User


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What every service method needs to know about the caller.

    ``org`` is the organization context of the request (CVAT's ``org``/``org_id``/
    ``X-Organization``): used to create objects and to scope lists. Permissions on existing
    objects use the object's own organization. ``read_only`` is set for read-only access tokens.
    ``origin`` is ``scheme://host[/stage]`` as the client reached the API (empty without a
    request): the events a request publishes carry it, so webhook payloads have absolute URLs.
    """

    user: User
    actor: Actor
    org: OrgScope = field(default_factory=OrgScope)
    request_id: str = ""
    read_only: bool = False
    origin: str = ""

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def org_id(self) -> int | None:
        return self.org.org_id

    def require_write(self) -> None:
        """Read-only access tokens may only read."""
        if self.read_only:
            raise PermissionDeniedError("This access token is read-only.")
