"""Plain factory functions for tests: build valid records with sensible defaults."""

import itertools

from app.extensions import db as _db
from app.security import service
from app.security.access import Actor
from app.security.models import Unit, User
from app.security.roles import ROLES

_seq = itertools.count(1)


class Factories:
    def __init__(self, db):
        self.db = db

    def unit(self, code=None, name=None, kind="office") -> Unit:
        n = next(_seq)
        unit = Unit(code=code or f"U{n}", name=name or f"Unit {n}", kind=kind)
        _db.session.add(unit)
        _db.session.flush()
        return unit

    def user(
        self,
        roles=("enforcement_officer",),
        unit=None,
        username=None,
        password="correct horse battery",
        **kw,
    ) -> User:
        n = next(_seq)
        unit = unit or self.unit()
        roles = [roles] if isinstance(roles, str) else list(roles)
        user = User(
            username=username or f"{roles[0][:10]}{n}",
            full_name=f"Test User {n}",
            email=f"user{n}@customs.test",
            unit=unit,
            password_hash=service.hash_password(password),
            **kw,
        )
        user.set_roles(roles)
        _db.session.add(user)
        _db.session.flush()
        return user

    def all_roles_user(self, unit=None) -> User:
        return self.user(roles=ROLES, unit=unit)

    def actor(self, user) -> Actor:
        return Actor.for_user(user, client_addr="127.0.0.1")

    def api_client(self, scopes, unit=None) -> tuple:
        unit = unit or self.unit()
        client, token = service.create_api_client(
            "test client", unit, scopes, actor=Actor.system("test")
        )
        _db.session.commit()
        return client, token

    def sign_in(self, client, user) -> None:
        """Give the test client a live server-side session for ``user``."""
        token = service.start_session(user, "127.0.0.1")
        _db.session.commit()
        with client.session_transaction() as sess:
            sess.clear()
            sess["sid"] = token
