"""The web dashboard: session login, Chinese and English pages with Plotly charts
over the marts, served by ``storeops serve`` next to the API.

- :mod:`~storeops.dashboard.routes` — the router (``ROUTE_MODULES``), the page
  registry, login/logout, the language switch, the live-traffic JSON and static files
  (plotly.js from the installed ``plotly`` package);
- :mod:`~storeops.dashboard.session` — signed session cookies and CSRF tokens;
- :mod:`~storeops.dashboard.snapshot` — the marts copied into memory and refreshed
  when the warehouse changes (so the dashboard never holds DuckDB's file lock);
- :mod:`~storeops.dashboard.pages` — what each page shows, per store and period;
- :mod:`~storeops.dashboard.charts` — Plotly figures as plain dicts;
- :mod:`~storeops.dashboard.demo_logins` — the demo's logins for ``make demo``.

Texts are in the ``dashboard`` message catalog (``storeops.i18n``). See
docs/dashboard.md.
"""
