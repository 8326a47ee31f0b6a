"""waitpoints_http: the HTTP edge shared by the API and callback functions (API Gateway HTTP API, payload 2.0)."""
