"""The web dashboard: a static single-page app served at ``/`` that talks to the same
``/api`` and ``/ws`` as every other client, plus ``/docs`` from locally installed assets.

Third-party browser code comes only from installed PyPI packages (plotly's bundled
``plotly.min.js``, swagger-ui-bundle's Swagger UI); nothing is vendored here."""
