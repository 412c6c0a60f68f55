"""Creating the first administrator (CVAT's `manage.py createsuperuser`)."""

from __future__ import annotations

from ..domain.errors import ValidationError
from ..domain.users import SystemRole, User, validate_email, validate_username
from ..ports import Clock, IdGenerator, PasswordHasher, UserRepository

MIN_PASSWORD_LENGTH = 8


class SuperuserService:
    def __init__(self, users: UserRepository, ids: IdGenerator, hasher: PasswordHasher, clock: Clock) -> None:
        self._users = users
        self._ids = ids
        self._hasher = hasher
        self._clock = clock

    def create_superuser(self, username: str, email: str, password: str) -> User:
        """Create an active admin (system group ``admin``, staff, superuser).

        Raises ValidationError for a bad username, email or a short password, and ConflictError when
        the username or email is taken.
        """
        validate_username(username)
        email = validate_email(email)
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(
                fields={
                    "password": [
                        f"This password is too short. It must contain at least {MIN_PASSWORD_LENGTH} characters."
                    ]
                }
            )
        if self._users.find_by_username(username) is not None:
            raise ValidationError(fields={"username": ["A user with that username already exists."]})
        user = User(
            id=self._ids.next_id("user"),
            username=username,
            email=email,
            password_hash=self._hasher.hash(password),
            groups=[SystemRole.ADMIN],
            is_staff=True,
            is_superuser=True,
            date_joined=self._clock.now(),
        )
        return self._users.add(user)
