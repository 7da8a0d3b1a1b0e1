"""API Gateway (REST) as ``template.yaml`` configures it, emulated for the local stack and the tests.

- ``routes``: the template's ``Api`` events as routes, and matching a request against them;
- ``events``: Lambda proxy integration events, shaped as API Gateway builds them;
- ``throttling``: token buckets for the stage limit and the usage plans' per-client limits;
- ``gateway``: ``ApiGateway``, what API Gateway does around the function (limits, authorizer
  and its cache, usage plans, gateway responses), minus the network;
- ``site``: the site bucket as the CloudFront distribution serves it (its response headers policy);
- ``server``: the HTTP server of the local stack (werkzeug) in front of the gateway and the site.
"""
