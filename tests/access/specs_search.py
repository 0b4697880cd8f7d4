from tests.access.spec import Route

ROUTES = [
    Route("search.search_page", perm="search.use"),
    Route("search_api.search", scope="search:read"),
]
