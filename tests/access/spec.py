"""How a route joins the access-matrix test.

Every domain adds ``tests/access/specs_<domain>.py`` with:

* ``ROUTES``: a list of ``Route`` — one per endpoint (the test fails for any endpoint of
  the app that no spec names);
* optionally ``build(world)``: create the records those routes need, owned by ``world.unit_a``
  with handling code C and containing ``world.SENTINEL`` in a visible field, and store
  them on ``world`` (e.g. ``world.case = ...``).

Expectations are derived from the role matrix in ``app.security.roles``: a role holding
``perm`` must get through the role check; any other role gets 403; anonymous users are sent
to the login page (HTML) or get 401 (API). For ``restricted`` routes an "outsider" (all
roles, another unit, nothing shared) must get 403/404 and the response must not contain
``SENTINEL``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Route:
    endpoint: str
    perm: str | None = None  # None with public=False: any signed-in user
    public: bool = False
    #: callable(world) -> dict of URL values
    args: Callable | None = None
    #: methods to exercise (default: every method the rule accepts, minus HEAD/OPTIONS)
    methods: tuple = ()
    #: object-level need-to-know applies (record of world.unit_a with handling code C)
    restricted: bool = False
    #: for /api/ routes: the token scope the route requires
    scope: str | None = None
    #: request body for POST/PUT/PATCH (form dict, or JSON for API routes)
    body: Callable | None = None
    #: extra notes printed when the route fails
    note: str = ""
    extra: dict = field(default_factory=dict)
