from tests.access.spec import Route

ROUTES = [
    Route("core.home"),
    Route("core.health", public=True),
    Route("core.openapi_json", public=True),
    Route("static", public=True, args=lambda w: {"filename": "css/tollgate.css"}),
]
