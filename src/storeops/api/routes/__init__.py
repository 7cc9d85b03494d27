"""Route modules, one per resource; each exposes ``router`` (and may expose
``lifespan``). :data:`storeops.api.app.ROUTE_MODULES` lists the ones the app mounts."""
