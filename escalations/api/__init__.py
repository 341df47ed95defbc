"""Percolate's REST API (``/api/v1/``): thin DRF viewsets over the services and selectors of both apps.

It lives in ``escalations`` because it joins both apps: the indicator endpoints show each indicator's RAG
status and the history of what Operations did about it, which belong to ``escalations`` — and
``indicators`` never imports ``escalations``. Layout: ``urls.py`` (every route), ``views/`` (one module per
area), ``serializers/``, ``filters.py``, ``permissions.py``, ``exceptions.py`` (domain errors → HTTP),
``pagination.py``, ``csv.py`` (``?format=csv``) and ``schema.py`` (error responses in the OpenAPI schema)."""
